import { z } from "zod";
import { env, loadConfig, type ServiceModule } from "@chorus/mesh";
import { GatewayService } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import { GatewaySockets } from "./websocket-server.js";

const gatewayEnvSchema = z.object({
  CHORUS_GATEWAY_HOST: env.host("127.0.0.1"),
  /** WebSocket port (Discord v10 gateway protocol). */
  CHORUS_GATEWAY_PORT: env.port(8081),
  /** URL clients are told to connect to; defaults to ws://host:port. */
  CHORUS_GATEWAY_PUBLIC_URL: z.url({ error: "must be a ws:// or wss:// URL" }).optional(),
  CHORUS_GATEWAY_HEARTBEAT_MS: env.positiveInt(41_250),
});

/** The gateway service module: WebSocket sessions plus its mesh contract. */
export const gatewayService: ServiceModule = {
  name: "gateway",
  contracts: [GatewayService],
  async start(ctx) {
    const config = loadConfig(gatewayEnvSchema, ctx.env);
    const sockets = new GatewaySockets({
      host: config.CHORUS_GATEWAY_HOST,
      port: config.CHORUS_GATEWAY_PORT,
      heartbeatIntervalMs: config.CHORUS_GATEWAY_HEARTBEAT_MS,
      logger: ctx.logger,
    });
    const port = await sockets.listen();
    const websocketUrl = config.CHORUS_GATEWAY_PUBLIC_URL ?? `ws://${config.CHORUS_GATEWAY_HOST}:${port}`;
    return {
      metadata: { websocket_url: websocketUrl },
      urls: { gateway: websocketUrl },
      routes(router) {
        router.service(GatewayService, {
          getStatus: () => ({ node: ctx.nodeInfo(), websocketUrl, openSessions: sockets.openSessions }),
        });
      },
      stop: () => sockets.close(),
    };
  },
};
