import type { APIUser } from "discord-api-types/v10";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { publicFlagsOf } from "./user-flags.js";

/** The locale of accounts that never chose one. */
export const DEFAULT_LOCALE = "en-US";

/**
 * Discord's user object as anyone may see it. Pomelo usernames have no discriminator: "0".
 * Fields Chorus has no feature for yet are present with Discord's empty values, so strict
 * clients find every key they expect.
 */
export type DiscordPublicUser = APIUser & {
  public_flags: number;
  flags: number;
  avatar_decoration_data: null;
  collectibles: null;
  primary_guild: null;
};

/** The current user's own object (GET /users/@me): the public one plus private fields. */
export type DiscordCurrentUser = DiscordPublicUser & {
  email: string | null;
  verified: boolean;
  mfa_enabled: boolean;
  locale: string;
  premium_type: number;
};

export function discordUser(user: User): DiscordPublicUser {
  const publicFlags = Number(publicFlagsOf(user));
  return {
    id: user.id.toString(),
    username: user.username,
    global_name: user.globalName ?? null,
    avatar: user.avatar ?? null,
    discriminator: "0",
    public_flags: publicFlags,
    flags: publicFlags,
    // As Discord: present only when true.
    ...(user.bot ? { bot: true } : {}),
    ...(user.system ? { system: true } : {}),
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
    collectibles: null,
    primary_guild: null,
  };
}

export function discordCurrentUser(user: User): DiscordCurrentUser {
  return {
    ...discordUser(user),
    flags: Number(user.flags),
    email: user.email ?? null,
    verified: user.verified,
    mfa_enabled: false,
    locale: user.locale || DEFAULT_LOCALE,
    premium_type: 0,
  };
}
