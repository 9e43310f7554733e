import { Code, ConnectError } from "@connectrpc/connect";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { UserCache } from "@chorus/discord-json/user-cache";
import { HashRing, loadConfig, type ServiceModule } from "@chorus/mesh";
import type { MeshClients } from "@chorus/mesh";
import { GatewayService } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import { gatewayEnvSchema } from "./config.js";
import { Authenticator } from "./identity.js";
import { Deliveries } from "./deliveries.js";
import type { GatewayConnection } from "./gateway-connection.js";
import { GuildPresence } from "./guild-presence.js";
import { GuildSnapshots } from "./guild-snapshots.js";
import { MemberChunks } from "./member-chunks.js";
import { MemorySessionStore } from "./memory-session-store.js";
import { RedisSessionStore } from "./redis-session-store.js";
import { gatewayKeyPrefix, openRedis } from "@chorus/session-directory";
import { SessionLifecycle } from "./session-lifecycle.js";
import { MemorySessionStartCounter, RedisSessionStartCounter, type SessionStartCounter } from "./session-start-limit.js";
import type { SessionStore } from "./session-store.js";
import { GatewaySockets } from "./websocket-server.js";

/** Reads an account from account storage; undefined when there is none. */
async function fetchUser(clients: MeshClients, userId: bigint): Promise<User | undefined> {
  try {
    return (await clients.client(AccountStorageService, userId).getUser({ userId })).user;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}

/** The gateway service module: WebSocket sessions plus its mesh contract. */
export const gatewayService: ServiceModule = {
  name: "gateway",
  contracts: [GatewayService],
  async start(ctx) {
    const config = loadConfig(gatewayEnvSchema, ctx.env);
    if (ctx.mode === "cluster" && !config.CHORUS_REDIS_URL) {
      ctx.logger.warn("CHORUS_REDIS_URL is not set: sessions live in this process and cannot resume on another gateway node");
    }
    const heartbeatIntervalMs = config.CHORUS_GATEWAY_HEARTBEAT_MS;
    const resumeWindowMs = config.CHORUS_GATEWAY_RESUME_WINDOW_MS;
    const storeOptions = {
      prefix: gatewayKeyPrefix(config.CHORUS_REGISTRY_NAMESPACE),
      namespace: config.CHORUS_REGISTRY_NAMESPACE,
      instanceId: ctx.instanceId,
      bufferSize: config.CHORUS_GATEWAY_BUFFER_SIZE,
      // Long enough for a resume window after the last heartbeat refreshed it.
      ttlSeconds: Math.ceil((resumeWindowMs + 3 * heartbeatIntervalMs) / 1000),
    };
    const redis = config.CHORUS_REDIS_URL ? openRedis(config.CHORUS_REDIS_URL) : undefined;
    // ioredis reconnects by itself (backing off to 2 s); say so rather than print to stderr.
    redis?.on("error", (err) => ctx.logger.warn({ err }, "Redis connection failed (CHORUS_REDIS_URL)"));
    const store: SessionStore = redis ? new RedisSessionStore(redis, storeOptions) : new MemorySessionStore(storeOptions);
    const startOptions = { total: config.CHORUS_GATEWAY_SESSION_START_LIMIT };
    const startLimit: SessionStartCounter = redis ? new RedisSessionStartCounter(redis, storeOptions.prefix, startOptions) : new MemorySessionStartCounter(startOptions);
    const users = new UserCache((userId) => fetchUser(ctx.clients, userId));
    const presence = new GuildPresence(ctx.clients, ctx.instanceId, ctx.logger);
    const lifecycle = new SessionLifecycle(store, presence, resumeWindowMs, ctx.logger);
    const sessions = new Map<string, GatewayConnection>();
    const deliveries = new Deliveries(store, sessions, ctx.logger);
    await lifecycle.start();
    await store.onPoke((ids) => deliveries.poked(ids));

    const sockets = new GatewaySockets({ host: config.CHORUS_GATEWAY_HOST, port: config.CHORUS_GATEWAY_PORT, logger: ctx.logger });
    // The announced URL needs the bound port; connections only start after listen() resolves.
    let websocketUrl = config.CHORUS_GATEWAY_PUBLIC_URL ?? "";
    const port = await sockets.listen({
      heartbeatIntervalMs,
      resumeWindowMs,
      rateLimit: config.CHORUS_GATEWAY_RATE_LIMIT,
      publicUrl: () => websocketUrl,
      store,
      startLimit,
      auth: new Authenticator(ctx.clients),
      snapshots: new GuildSnapshots(ctx.clients, users),
      presence,
      memberChunks: new MemberChunks(ctx.clients, users),
      sessions,
      sweepSoon: () => lifecycle.sweepSoon(),
      logger: ctx.logger,
    });
    websocketUrl ||= `ws://${config.CHORUS_GATEWAY_HOST}:${port}`;
    // Guild owners keep online lists in memory only: when a guild node joins or leaves, the
    // sessions here announce themselves to the new owners of their guilds.
    let guildRing = ringOf(ctx.registry.instances("guild").map((i) => i.id));
    const unwatchGuilds = ctx.registry.watch("guild", (instances) => {
      const next = ringOf(instances.map((i) => i.id));
      const before = guildRing;
      guildRing = next;
      for (const connection of sessions.values()) connection.reannounce((guildId) => before.lookup(guildId) !== next.lookup(guildId));
    });
    return {
      metadata: { websocket_url: websocketUrl },
      urls: { gateway: websocketUrl },
      routes(router) {
        router.service(GatewayService, {
          getStatus: () => ({ node: ctx.nodeInfo(), websocketUrl, openSessions: sockets.openConnections }),
          deliver: (req) => deliveries.deliver(req),
          deliverBatch: (req) => deliveries.deliverBatch(req),
          getSessionStartLimit: async (req) => {
            if (req.userId === 0n) throw new ConnectError("user_id: Required.", Code.InvalidArgument);
            const limit = await startLimit.peek(req.userId);
            return { total: limit.total, remaining: limit.remaining, resetAfterMs: BigInt(limit.resetAfterMs), maxConcurrency: limit.maxConcurrency };
          },
        });
      },
      async stop() {
        unwatchGuilds();
        await sockets.drain();
        await lifecycle.stop();
        await store.close();
        await redis?.quit().catch(() => redis.disconnect());
      },
    };
  },
};

function ringOf(ids: string[]): HashRing {
  const ring = new HashRing();
  ring.setNodes(ids);
  return ring;
}
