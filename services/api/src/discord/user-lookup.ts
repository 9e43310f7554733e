import type { UserLookup } from "@chorus/discord-json/guilds";
import type { Accounts } from "../accounts/accounts.js";

export { deletedUser } from "@chorus/discord-json/user-cache";

/**
 * The users one response names (members, bans, recipients, inviters, authors), each read
 * once, in parallel, through the api's short-lived user cache. An account that is gone
 * renders as Discord's deleted user.
 */
export function lookUpUsers(accounts: Accounts, userIds: Iterable<bigint>): Promise<UserLookup> {
  return accounts.users.lookup(userIds);
}
