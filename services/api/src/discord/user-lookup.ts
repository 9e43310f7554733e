import { create } from "@bufbuild/protobuf";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { UnknownUserError } from "../accounts/account-errors.js";
import type { Accounts } from "../accounts/accounts.js";
import type { UserLookup } from "@chorus/discord-json/guilds";

/** What Discord shows for an account that no longer exists. */
export function deletedUser(userId: bigint): User {
  return create(UserSchema, { id: userId, username: `deleted_user_${userId.toString(16)}`, globalName: "Deleted User" });
}

/**
 * The users one response names (members, bans, recipients, inviters), each fetched once
 * from account storage, in parallel. An account that is gone renders as Discord's deleted user.
 */
export async function lookUpUsers(accounts: Accounts, userIds: Iterable<bigint>): Promise<UserLookup> {
  const users = new Map<bigint, User>();
  await Promise.all(
    [...new Set(userIds)].map(async (userId) => {
      try {
        users.set(userId, await accounts.getUser(userId));
      } catch (err) {
        if (!(err instanceof UnknownUserError)) throw err;
        users.set(userId, deletedUser(userId));
      }
    }),
  );
  return (userId) => users.get(userId) ?? deletedUser(userId);
}
