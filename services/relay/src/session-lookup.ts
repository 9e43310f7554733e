import type { Logger } from "@chorus/mesh";
import type { OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";

/** Where a user's gateway sessions are: the directory the gateways keep. */
export interface SessionDirectory {
  lookup(userIds: readonly bigint[]): Promise<OnlineSession[]>;
  close(): Promise<void>;
}

/**
 * Opens the gateways' session directory. Not wired yet: the gateway work (issue 6) publishes
 * it; until then, events addressed to users by id (a new member's GUILD_CREATE, DM events)
 * reach nobody and a warning says so once.
 */
export async function openSessionDirectory(_env: Record<string, string | undefined>, logger: Logger): Promise<SessionDirectory> {
  let warned = false;
  return {
    async lookup(userIds) {
      if (userIds.length > 0 && !warned) {
        warned = true;
        logger.warn("the gateways' session directory is not wired yet: events addressed to users by id are not delivered");
      }
      return [];
    },
    async close() {},
  };
}
