import type { FastifyInstance } from "fastify";
import type { MeshClients, ServiceRegistry } from "@chorus/mesh";
import { GatewayService } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import { UnauthorizedError } from "../../accounts/account-errors.js";
import { TokenKind, type Accounts } from "../../accounts/accounts.js";
import { requireSession } from "../auth.js";
import { httpStatusError } from "../errors.js";

/**
 * Where clients open the gateway: `GET /gateway` and, for bots, `GET /gateway/bot` with
 * Discord's sharding advice. The URL is one that a live gateway instance publishes in the
 * registry (its `websocket_url` metadata; CHORUS_GATEWAY_PUBLIC_URL), taken in turn so that
 * new sessions spread over the nodes; any node can resume any session. The session start limit
 * is the gateways' own count (shared in Redis), so it is what IDENTIFY will enforce.
 */
export function gatewayRoutes(accounts: Accounts, registry: ServiceRegistry, clients: MeshClients) {
  let turn = 0;
  const gatewayUrl = () => {
    const urls = [...new Set(registry.instances("gateway").map((i) => i.metadata.websocket_url).filter(Boolean))];
    if (urls.length === 0) throw httpStatusError(503);
    return urls[turn++ % urls.length];
  };
  return async (app: FastifyInstance) => {
    app.get("/gateway", async () => ({ url: gatewayUrl() }));

    app.get("/gateway/bot", async (request) => {
      const session = await requireSession(accounts, request);
      if (session.kind !== TokenKind.BOT) throw new UnauthorizedError("GET /gateway/bot takes a bot token");
      const url = gatewayUrl();
      const limit = await clients.client(GatewayService).getSessionStartLimit({ userId: session.userId });
      return {
        url,
        shards: 1,
        session_start_limit: {
          total: limit.total,
          remaining: limit.remaining,
          reset_after: Number(limit.resetAfterMs),
          max_concurrency: limit.maxConcurrency,
        },
      };
    });
  };
}
