import type { ServiceModule } from "@chorus/mesh";
import { PushService } from "@chorus/contracts/chorus/push/v1/push_pb";
import { openSessionDirectory } from "@chorus/session-directory";
import { configureProviders, loadPushConfig } from "./push-config.js";
import { PushNotifier } from "./push-notifier.js";
import { PushPipeline } from "./push-pipeline.js";

/** The push service module: its contract handlers, started by main.ts or the embedded launcher. */
export const pushService: ServiceModule = {
  name: "push",
  contracts: [PushService],
  async start(ctx) {
    const config = loadPushConfig(ctx.env);
    const configured = configureProviders(config, ctx.mode, ctx.logger);
    const { providers, webPushPublicKey } = configured;
    // Who is online, for Notify calls whose caller could not tell (private channels).
    if (ctx.mode === "cluster" && !config.CHORUS_REDIS_URL) {
      ctx.logger.warn("CHORUS_REDIS_URL is not set: DM recipients with a live gateway session cannot be told apart and get pushes too");
    }
    const directory = await openSessionDirectory({
      redisUrl: config.CHORUS_REDIS_URL,
      namespace: config.CHORUS_REGISTRY_NAMESPACE,
      onError: (err) => ctx.logger.warn({ err }, "session directory: Redis connection failed; retrying"),
    });
    let notifier: PushNotifier | undefined;
    const pipeline = new PushPipeline({
      bufferCapacity: config.CHORUS_PUSH_BUFFER_SIZE,
      sinksPerProvider: config.CHORUS_PUSH_SINKS,
      maxInFlightPerSink: config.CHORUS_PUSH_MAX_IN_FLIGHT,
      providers,
      retry: { maxAttempts: config.CHORUS_PUSH_MAX_ATTEMPTS, baseDelayMs: config.CHORUS_PUSH_RETRY_BASE_MS, maxDelayMs: config.CHORUS_PUSH_RETRY_MAX_MS },
      onGone: (request, reason) => notifier?.removeDevice(request, reason),
      logger: ctx.logger,
    });
    notifier = new PushNotifier({
      pipeline,
      clients: ctx.clients,
      online: async (userIds) => new Set((await directory.lookup(userIds)).map((s) => s.userId)),
      ttlSeconds: config.CHORUS_PUSH_TTL_SECONDS,
      maxResolving: config.CHORUS_PUSH_MAX_RESOLVING,
      logger: ctx.logger,
    });
    const pushes = notifier;
    return {
      routes(router) {
        router.service(PushService, {
          getStatus: () => {
            const status = pipeline.status();
            return {
              node: ctx.nodeInfo(),
              bufferDepth: status.bufferDepth,
              bufferCapacity: status.bufferCapacity,
              webPushPublicKey,
              inFlight: status.sinks.reduce((n, s) => n + s.inFlight, 0),
              shedByPriority: status.shedByPriority.map(BigInt),
              sent: BigInt(status.sinks.reduce((n, s) => n + s.sent, 0)),
            };
          },
          notify: async (req) => ({ queued: await pushes.notify(req) }),
        });
      },
      async stop() {
        await pipeline.stop();
        await configured.close();
        await directory.close();
      },
    };
  },
};
