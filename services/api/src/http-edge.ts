import Fastify, { type FastifyInstance } from "fastify";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import type { ConnectRouter } from "@connectrpc/connect";
import { metricsRegistry, serverObservability, type ServiceContext } from "@chorus/mesh";
import { probeServices } from "./service-probe.js";
import { discordApi, type DiscordApiDependencies } from "./discord/discord-api.js";
import { cdnRoutes } from "./attachments/cdn-routes.js";

export interface HttpEdgeOptions {
  host: string;
  port: number;
  routes: (router: ConnectRouter) => void;
  discord: DiscordApiDependencies;
}

/** Where the Discord-compatible REST API is served: the v10 path, and /api for unversioned clients. */
export const DISCORD_API_PREFIXES = ["/api/v10", "/api"] as const;

/**
 * The public HTTP edge: the Connect API (chorus.api.v1) for first-party clients over HTTP/1.1
 * and HTTP/2, the Discord-compatible REST API under /api/v10 (and /api), attachments' files
 * under /attachments and emoji images under /emojis (Discord's CDN paths), /healthz with the status of every service, and
 * /metrics.
 */
export async function startHttpEdge(ctx: ServiceContext, options: HttpEdgeOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(fastifyConnectPlugin, { routes: options.routes, interceptors: [serverObservability()] });
  for (const prefix of DISCORD_API_PREFIXES) await app.register(discordApi(options.discord, ctx), { prefix });
  await app.register(cdnRoutes(options.discord.attachments, options.discord.emojis));

  app.get("/healthz", async (_req, reply) => {
    const services = await probeServices(ctx);
    const ok = services.every((s) => s.serving);
    return reply.code(ok ? 200 : 503).send({
      status: ok ? "ok" : "degraded",
      version: ctx.version,
      mode: ctx.mode,
      services: Object.fromEntries(
        services.map((s) => [
          s.name,
          { status: s.serving ? "SERVING" : "NOT_SERVING", instances: s.instances, healthy_instances: s.healthyInstances },
        ]),
      ),
    });
  });

  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", metricsRegistry.contentType);
    return metricsRegistry.metrics();
  });

  await app.listen({ host: options.host, port: options.port });
  return app;
}
