import type { ConnectRouter } from "@connectrpc/connect";
import { InteractionService } from "@chorus/contracts/chorus/api/v1/interactions_pb";
import { answer as accountAnswer } from "./account-rpc.js";
import type { Accounts } from "./accounts/accounts.js";
import { answer, callerSession } from "./guild-rpc.js";
import type { Interactions } from "./interactions/interactions.js";

/**
 * chorus.api.v1.InteractionService: first-party clients invoke commands and use components
 * through the same checks as Discord's POST /interactions (the body is built from the request).
 */
export function interactionRpcRoutes(accounts: Accounts, interactions: Interactions) {
  return (router: ConnectRouter) =>
    router.service(InteractionService, {
      createInteraction: (req, ctx) =>
        accountAnswer(() =>
          answer(async () => {
            const session = await callerSession(accounts, ctx);
            await interactions.invoke(session, {
              type: req.type,
              application_id: String(req.applicationId),
              channel_id: String(req.channelId),
              ...(req.messageId !== 0n ? { message_id: String(req.messageId) } : {}),
              data: req.data ?? {},
              ...(req.nonce !== "" ? { nonce: req.nonce } : {}),
            });
            return {};
          }),
        ),
    });
}
