import type { FastifyInstance } from "fastify";
import type { ServiceRegistry } from "@chorus/mesh";
import { UnauthorizedError } from "../../accounts/account-errors.js";
import { TokenKind, type Accounts } from "../../accounts/accounts.js";
import { requireSession } from "../auth.js";
import { httpStatusError } from "../errors.js";

/**
 * Where clients open the gateway: `GET /gateway` and, for bots, `GET /gateway/bot` with
 * Discord's sharding advice. The URL is one that a live gateway instance publishes in the
 * registry (its `websocket_url` metadata; CHORUS_GATEWAY_PUBLIC_URL), taken in turn so that
 * new sessions spread over the nodes; any node can resume any session.
 */
export function gatewayRoutes(accounts: Accounts, registry: ServiceRegistry) {
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
      return {
        url: gatewayUrl(),
        shards: 1,
        // Chorus does not limit session starts yet: the whole allowance is always left.
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
      };
    });
  };
}
