import type { APIEmoji } from "discord-api-types/v10";
import type { Emoji } from "@chorus/contracts/chorus/chat/v1/emoji_pb";
import type { UserLookup } from "./guilds.js";
import { discordUser, type DiscordPublicUser } from "./users.js";

export type DiscordEmoji = APIEmoji & {
  id: string;
  name: string;
  roles: string[];
  require_colons: boolean;
  managed: boolean;
  animated: boolean;
  available: boolean;
  user?: DiscordPublicUser;
};

/**
 * Discord's emoji object. `user` (the uploader) only when `users` is given: Discord shows it
 * to members with MANAGE_GUILD_EXPRESSIONS on the REST routes, never in gateway events.
 */
export function discordEmoji(emoji: Emoji, users?: UserLookup): DiscordEmoji {
  return {
    id: emoji.id.toString(),
    name: emoji.name,
    roles: emoji.roleIds.map(String),
    ...(users ? { user: discordUser(users(emoji.userId)) } : {}),
    require_colons: true,
    managed: false,
    animated: emoji.animated,
    available: true,
  };
}
