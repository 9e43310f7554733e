import { z } from "zod";
import { env, loadConfig, type ServiceModule } from "@chorus/mesh";
import { ServerService } from "@chorus/contracts/chorus/api/v1/server_pb";
import { startHttpEdge } from "./http-edge.js";
import { serverInfoRoutes } from "./server-info.js";

const apiEnvSchema = z.object({
  CHORUS_HTTP_HOST: env.host("127.0.0.1"),
  /** Port of the public HTTP edge (Connect API, /healthz, /metrics, later /api/v10). */
  CHORUS_HTTP_PORT: env.port(8080),
});

/** The api service module: the stateless edge in front of the mesh. */
export const apiService: ServiceModule = {
  name: "api",
  contracts: [ServerService],
  async start(ctx) {
    const config = loadConfig(apiEnvSchema, ctx.env);
    const routes = serverInfoRoutes(ctx);
    const edge = await startHttpEdge(ctx, { host: config.CHORUS_HTTP_HOST, port: config.CHORUS_HTTP_PORT, routes });
    const address = edge.server.address();
    const port = typeof address === "object" && address ? address.port : config.CHORUS_HTTP_PORT;
    const httpUrl = `http://${config.CHORUS_HTTP_HOST}:${port}`;
    return {
      metadata: { http_url: httpUrl },
      urls: { http: httpUrl, healthz: `${httpUrl}/healthz`, metrics: `${httpUrl}/metrics` },
      routes,
      stop: () => edge.close(),
    };
  },
};
