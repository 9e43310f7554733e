import type { Logger, MeshClients } from "@chorus/mesh";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";

/** Tells guild owners which sessions are online (the members their events fan out to). */
export class GuildPresence {
  constructor(
    private readonly clients: MeshClients,
    private readonly instanceId: string,
    private readonly logger: Logger,
  ) {}

  /** What each session set with op 3 (or IDENTIFY's presence); sessions not listed are "online". */
  private readonly presences = new Map<string, SessionPresence>();

  /** Records a session's status and activities; the caller re-marks its guilds. */
  setPresence(sessionId: string, presence: SessionPresence): void {
    this.presences.set(sessionId, presence);
  }

  /** Forgets a session's presence when it ends here. */
  forget(sessionId: string): void {
    this.presences.delete(sessionId);
  }

  /**
   * Marks a session online on a guild's owner, with its presence and intents (the owner sends
   * PRESENCE_UPDATE only to sessions with GUILD_PRESENCES); false when the user is not a
   * member (or the owner could not be told).
   */
  async markOnline(guildId: bigint, userId: bigint, sessionId: string, intents: number): Promise<boolean> {
    const presence = this.presences.get(sessionId);
    try {
      const answer = await this.clients.client(GuildService, guildId).markOnline({
        guildId,
        session: { userId, sessionId, gatewayInstanceId: this.instanceId, status: presence?.status ?? "", activities: presence?.activities, intents },
      });
      return answer.member;
    } catch (err) {
      this.logger.warn({ err, guildId: String(guildId), sessionId }, "could not mark a session online");
      return false;
    }
  }

  async markOffline(guildId: bigint, userId: bigint, sessionId: string): Promise<void> {
    try {
      await this.clients.client(GuildService, guildId).markOffline({ guildId, userId, sessionId });
    } catch (err) {
      this.logger.warn({ err, guildId: String(guildId), sessionId }, "could not mark a session offline");
    }
  }
}

/** A session's presence as guild owners take it: Discord's status and activities JSON. */
export interface SessionPresence {
  status: "online" | "idle" | "dnd" | "invisible";
  activities: Uint8Array;
}

/** What op 3 may set; "offline" is taken as invisible (others see the user offline either way). */
const STATUSES = new Set(["online", "idle", "dnd", "invisible", "offline"]);
/** The largest activities JSON a session may set. */
const MAX_ACTIVITIES_BYTES = 8192;

/**
 * A presence from an op 3 payload or IDENTIFY's `presence` ({since, activities, status, afk});
 * undefined when it is not one (the caller closes with 4002).
 */
export function parsePresence(d: unknown): SessionPresence | undefined {
  if (typeof d !== "object" || d === null) return undefined;
  const { status, activities } = d as { status?: unknown; activities?: unknown };
  if (typeof status !== "string" || !STATUSES.has(status)) return undefined;
  if (activities !== undefined && activities !== null && !Array.isArray(activities)) return undefined;
  const bytes = new TextEncoder().encode(JSON.stringify(activities ?? []));
  if (bytes.length > MAX_ACTIVITIES_BYTES) return undefined;
  return { status: (status === "offline" ? "invisible" : status) as SessionPresence["status"], activities: bytes };
}
