import { Redis } from "ioredis";

/**
 * Where the gateway keeps sessions in Redis, and the user → sessions directory relays and push
 * read (FanoutRequest.user_ids: "reach this user on every session it has"; push leaves out
 * users who have a live session). The gateway writes it; the readers only look users up, so
 * the layout lives here, in one place, rather than in the gateway's code.
 *
 * Every key starts with `chorus:<namespace>:gw:` (`chorus:gw:` without a registry namespace):
 *
 * | key | type | what |
 * |---|---|---|
 * | `s:<session>` | hash | user, intents, content (1: sees message content), bot, shard, instance (gateway holding it; empty while detached), gen (attach count), seq (last dispatch number) |
 * | `b:<session>` | list | the replay buffer: `<seq>\|<delivery id>\|<1: data, 0: data without content>`, oldest first, bounded (trimmed in steps) |
 * | `g:<session>` | set | the session's guild ids (MarkOffline on each when it ends) |
 * | `d:<delivery id>` | hash | one dispatch stored once for all its sessions: t, d, n (d without content) |
 * | `r:<delivery id>` | set | the sessions that got it (so a retried delivery is not numbered twice) |
 * | `u:<user id>` | hash | the directory: session id → gateway instance id (empty: detached, resumable) |
 * | `i:<instance>` | set | sessions a gateway instance holds (taken over when the instance dies) |
 * | `alive:<instance>` | string | present while a gateway instance runs (short TTL, refreshed) |
 * | `instances` | set | gateway instances that may hold sessions |
 * | `detached` | sorted set | detached sessions by the time (ms) they end unless resumed |
 *
 * Pub/sub channel `poke:<instance>`: session ids that got dispatches through another node.
 */
export function gatewayKeyPrefix(namespace?: string): string {
  return namespace ? `chorus:${namespace}:gw:` : "chorus:gw:";
}

export const sessionKeys = (prefix: string) => ({
  session: (sessionId: string) => `${prefix}s:${sessionId}`,
  buffer: (sessionId: string) => `${prefix}b:${sessionId}`,
  guilds: (sessionId: string) => `${prefix}g:${sessionId}`,
  delivery: (deliveryId: string) => `${prefix}d:${deliveryId}`,
  user: (userId: bigint | string) => `${prefix}u:${userId}`,
  instance: (instanceId: string) => `${prefix}i:${instanceId}`,
  alive: (instanceId: string) => `${prefix}alive:${instanceId}`,
  instances: `${prefix}instances`,
  detached: `${prefix}detached`,
  poke: (instanceId: string) => `${prefix}poke:${instanceId}`,
});

export interface UserSession {
  userId: bigint;
  sessionId: string;
  /** The gateway instance holding it; empty while it is detached (it can still be resumed, and deliveries to any gateway node reach its replay buffer). */
  gatewayInstanceId: string;
}

/**
 * Every live session of each user (two round trips, however many users). Sessions that ended
 * but are still listed (a gateway died before removing them) are left out and removed.
 * `namespace` is the registry namespace (CHORUS_REGISTRY_NAMESPACE), if any.
 */
export async function lookupUserSessions(redis: Redis, userIds: readonly bigint[], namespace?: string): Promise<UserSession[]> {
  const keys = sessionKeys(gatewayKeyPrefix(namespace));
  const users = [...new Set(userIds)];
  if (users.length === 0) return [];
  const listed = await redis.pipeline(users.map((u) => ["hgetall", keys.user(u)])).exec();
  const candidates: UserSession[] = [];
  users.forEach((userId, i) => {
    const [err, entries] = listed![i];
    if (err) throw err;
    for (const [sessionId, gatewayInstanceId] of Object.entries(entries as Record<string, string>)) {
      candidates.push({ userId, sessionId, gatewayInstanceId });
    }
  });
  if (candidates.length === 0) return [];
  const exists = await redis.pipeline(candidates.map((c) => ["exists", keys.session(c.sessionId)])).exec();
  const live: UserSession[] = [];
  const stale: UserSession[] = [];
  candidates.forEach((c, i) => (exists![i][1] === 1 ? live : stale).push(c));
  if (stale.length > 0) await redis.pipeline(stale.map((c) => ["hdel", keys.user(c.userId), c.sessionId])).exec();
  return live;
}

/** Embedded mode's in-process directories, by key prefix: each gateway's lookup over its own memory. */
const memoryDirectories = new Map<string, (userIds: readonly bigint[]) => UserSession[]>();

/**
 * A gateway running without Redis (embedded mode) offers its sessions to the readers of the
 * same process under its key prefix; readers of a prefix nobody offers find no sessions.
 */
export function offerMemoryDirectory(prefix: string, lookup: (userIds: readonly bigint[]) => UserSession[]): void {
  memoryDirectories.set(prefix, lookup);
}

/** The directory as relays use it: one lookup, and close. */
export interface SessionDirectory {
  lookup(userIds: readonly bigint[]): Promise<UserSession[]>;
  close(): Promise<void>;
}

/**
 * Opens the directory the gateways keep: in Redis at `redisUrl` (CHORUS_REDIS_URL), or, in
 * embedded mode (no Redis), the in-process one of the gateway running in the same process.
 */
export async function openSessionDirectory(options: {
  redisUrl?: string;
  namespace?: string;
  /** Told of Redis connection failures (ioredis reconnects by itself). */
  onError?: (err: Error) => void;
}): Promise<SessionDirectory> {
  const prefix = gatewayKeyPrefix(options.namespace);
  if (!options.redisUrl) {
    // Looked up at each call: the gateway of this process may start after the reader.
    return { lookup: async (userIds) => memoryDirectories.get(prefix)?.(userIds) ?? [], close: async () => {} };
  }
  const redis = openRedis(options.redisUrl);
  if (options.onError) redis.on("error", options.onError);
  return {
    lookup: (userIds) => lookupUserSessions(redis, userIds, options.namespace),
    close: async () => void (await redis.quit().catch(() => redis.disconnect())),
  };
}

/** A Redis client for session data: commands wait for the connection, fail after two retries. */
export function openRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
}
