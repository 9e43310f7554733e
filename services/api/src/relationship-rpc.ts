import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import {
  RelationshipService,
  type RelationshipSchema,
  type RelationshipType,
} from "@chorus/contracts/chorus/api/v1/relationships_pb";
import { answer, bearerSession } from "./account-rpc.js";
import { InvalidFieldsError, fieldError } from "./accounts/account-errors.js";
import type { Accounts } from "./accounts/accounts.js";
import { publicProfile } from "@chorus/discord-json/user-flags";
import type { RelationshipView, Relationships } from "./relationships/relationships.js";

function relationshipMessage(view: RelationshipView): MessageInitShape<typeof RelationshipSchema> {
  return {
    user: publicProfile(view.user),
    // The public enum numbers its types as Discord and the storage contract do.
    type: view.type as number as RelationshipType,
    since: timestampFromDate(view.since),
    nickname: view.nickname,
  };
}

/**
 * chorus.api.v1.RelationshipService: friends, friend requests and blocks for first-party
 * clients, on the same logic as Discord's /users/@me/relationships routes (a person's
 * `Authorization: Bearer <token>`).
 */
export function relationshipRoutes(accounts: Accounts, relationships: Relationships) {
  const session = (ctx: HandlerContext) => bearerSession(accounts, ctx);

  return (router: ConnectRouter) =>
    router.service(RelationshipService, {
      listRelationships: (_req, ctx) =>
        answer(async () => ({ relationships: (await relationships.list(await session(ctx))).map(relationshipMessage) })),

      sendFriendRequest: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          const target = req.target;
          if (target.case === undefined) {
            throw new InvalidFieldsError([fieldError("target", "BASE_TYPE_REQUIRED", "user_id or username is required")]);
          }
          const view = await relationships.request(caller, target.case === "userId" ? { userId: target.value } : { username: target.value });
          return { relationship: relationshipMessage(view) };
        }),

      acceptFriendRequest: (req, ctx) =>
        answer(async () => ({ relationship: relationshipMessage(await relationships.accept(await session(ctx), req.userId)) })),

      blockUser: (req, ctx) =>
        answer(async () => ({ relationship: relationshipMessage(await relationships.block(await session(ctx), req.userId)) })),

      removeRelationship: (req, ctx) => answer(async () => ({ removed: await relationships.remove(await session(ctx), req.userId) })),
    });
}
