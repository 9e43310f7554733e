import type { GatewayActivity, GatewayPresenceUpdate, PresenceUpdateReceiveStatus } from "discord-api-types/v10";

/** What others see of a user in a guild: Discord's status and activities (a JSON array, "" for none). */
export interface Presence {
  status: string;
  activities: string;
}

export const OFFLINE: Presence = { status: "offline", activities: "" };

export function samePresence(a: Presence, b: Presence): boolean {
  return a.status === b.status && a.activities === b.activities;
}

/** The presence fields of a gateway session, as `chorus.guild.v1.OnlineSession` carries them. */
export interface SessionPresenceFields {
  status: string;
  activities: Uint8Array;
}

const decoder = new TextDecoder();

/**
 * A user's presence from their sessions, oldest update first: the most recently updated
 * session's presence is the user's; invisible shows as offline, as no session does.
 */
export function presenceOf(sessions: Iterable<SessionPresenceFields>): Presence {
  let newest: SessionPresenceFields | undefined;
  for (const session of sessions) newest = session;
  if (!newest) return OFFLINE;
  const status = newest.status === "" ? "online" : newest.status;
  if (status === "invisible") return OFFLINE;
  return { status, activities: decoder.decode(newest.activities) };
}

/** A user's presence, as GUILD_CREATE and GUILD_MEMBERS_CHUNK list them. */
export interface UserPresence {
  userId: bigint;
  presence: Presence;
}

/**
 * The presences others see in a guild, from its online sessions as `GuildService.ListOnline`
 * gives them (each user's sessions in update order): one per user, in the order users first
 * appear; users who show as offline (invisible) are left out, as Discord leaves out offline
 * members.
 */
export function guildPresences(sessions: Iterable<SessionPresenceFields & { userId: bigint }>): UserPresence[] {
  const byUser = new Map<bigint, (SessionPresenceFields & { userId: bigint })[]>();
  for (const session of sessions) {
    const list = byUser.get(session.userId);
    if (list) list.push(session);
    else byUser.set(session.userId, [session]);
  }
  const presences: UserPresence[] = [];
  for (const [userId, list] of byUser) {
    const presence = presenceOf(list);
    if (!samePresence(presence, OFFLINE)) presences.push({ userId, presence });
  }
  return presences;
}

/**
 * Discord's presence of a user in a guild: PRESENCE_UPDATE's `d`, and each entry of
 * GUILD_CREATE's and GUILD_MEMBERS_CHUNK's `presences` (so that they never differ). Chorus
 * does not tell platforms apart: every session counts as desktop.
 */
export function discordPresence(userId: bigint, guildId: bigint, presence: Presence): GatewayPresenceUpdate {
  const status = presence.status as PresenceUpdateReceiveStatus;
  return {
    user: { id: String(userId) },
    guild_id: String(guildId),
    status,
    activities: presence.activities === "" ? [] : (JSON.parse(presence.activities) as GatewayActivity[]),
    client_status: presence.status === "offline" ? {} : { desktop: status },
  };
}
