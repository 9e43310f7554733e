import type { Logger, MeshClients } from "@chorus/mesh";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";

/** Tells guild owners which sessions are online (the members their events fan out to). */
export class GuildPresence {
  constructor(
    private readonly clients: MeshClients,
    private readonly instanceId: string,
    private readonly logger: Logger,
  ) {}

  /** Marks a session online on a guild's owner; false when the user is not a member (or the owner could not be told). */
  async markOnline(guildId: bigint, userId: bigint, sessionId: string): Promise<boolean> {
    try {
      const answer = await this.clients
        .client(GuildService, guildId)
        .markOnline({ guildId, session: { userId, sessionId, gatewayInstanceId: this.instanceId } });
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
