import { z } from "zod";
import { create } from "@bufbuild/protobuf";
import { OnlineSessionSchema, type OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { loadConfig, meshEnvSchema, type Logger } from "@chorus/mesh";
import { openSessionDirectory as openGatewayDirectory } from "@chorus/session-directory";

const relayEnvSchema = z.object({
  /** The gateways' Redis (their session directory); unset in embedded mode, where it is in-process. */
  CHORUS_REDIS_URL: z.url({ error: "must be a redis:// or rediss:// URL" }).optional(),
  CHORUS_REGISTRY_NAMESPACE: meshEnvSchema.shape.CHORUS_REGISTRY_NAMESPACE,
});

/** Where a user's gateway sessions are: the directory the gateways keep. */
export interface SessionDirectory {
  lookup(userIds: readonly bigint[]): Promise<OnlineSession[]>;
  close(): Promise<void>;
}

/** Opens the gateways' session directory (Redis in cluster mode, in-process when embedded). */
export async function openSessionDirectory(environment: Record<string, string | undefined>, logger: Logger): Promise<SessionDirectory> {
  const config = loadConfig(relayEnvSchema, environment);
  const directory = await openGatewayDirectory({
    redisUrl: config.CHORUS_REDIS_URL,
    namespace: config.CHORUS_REGISTRY_NAMESPACE,
    onError: (err) => logger.warn({ err }, "session directory: Redis connection failed; retrying"),
  });
  return {
    lookup: async (userIds) => (await directory.lookup(userIds)).map((s) => create(OnlineSessionSchema, s)),
    close: () => directory.close(),
  };
}
