import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { ApplicationService, type ApplicationSchema } from "@chorus/contracts/chorus/api/v1/applications_pb";
import { answer, bearerSession } from "./account-rpc.js";
import { InvalidFieldsError } from "./accounts/account-errors.js";
import { validate } from "./accounts/account-rules.js";
import type { Accounts } from "./accounts/accounts.js";
import { publicProfile } from "@chorus/discord-json/user-flags";
import { applicationChangesSchema, applicationCreationSchema } from "./applications/application-rules.js";
import type { ApplicationView, Applications } from "./applications/applications.js";

const UPDATABLE = ["name", "description", "bot_public", "bot_require_code_grant", "icon"];

function applicationMessage({ application, bot, guildCount }: ApplicationView): MessageInitShape<typeof ApplicationSchema> {
  return {
    id: application.id,
    name: application.name,
    description: application.description,
    ownerId: application.ownerId,
    bot: bot ? publicProfile(bot) : undefined,
    botPublic: application.botPublic,
    botRequireCodeGrant: application.botRequireCodeGrant,
    icon: application.icon,
    verifyKey: application.verifyKey,
    flags: application.flags,
    approximateGuildCount: guildCount,
  };
}

/**
 * chorus.api.v1.ApplicationService: applications, bots and bot tokens for first-party
 * clients, on the same logic and validation as the Discord routes (a person's
 * `Authorization: Bearer <token>`).
 */
export function applicationRoutes(accounts: Accounts, applications: Applications) {
  const session = (ctx: HandlerContext) => bearerSession(accounts, ctx);

  return (router: ConnectRouter) =>
    router.service(ApplicationService, {
      createApplication: (req, ctx) =>
        answer(async () => {
          const input = validate(applicationCreationSchema, { name: req.name, description: req.description });
          return { application: applicationMessage(await applications.create(await session(ctx), input)) };
        }),

      listApplications: (_req, ctx) =>
        answer(async () => ({ applications: (await applications.list(await session(ctx))).map(applicationMessage) })),

      getApplication: (req, ctx) =>
        answer(async () => ({ application: applicationMessage(await applications.get(await session(ctx), req.applicationId)) })),

      updateApplication: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          const paths = new Set(req.updateMask?.paths ?? []);
          const unknown = [...paths].filter((p) => !UPDATABLE.includes(p));
          if (unknown.length > 0) {
            throw new InvalidFieldsError([{ path: ["update_mask"], code: "BASE_TYPE_CHOICES", message: `cannot update ${unknown.join(", ")}` }]);
          }
          const application = req.application;
          const changes = validate(applicationChangesSchema, {
            name: paths.has("name") ? application?.name ?? "" : undefined,
            description: paths.has("description") ? application?.description ?? "" : undefined,
            icon: paths.has("icon") ? application?.icon ?? null : undefined,
            bot_public: paths.has("bot_public") ? application?.botPublic ?? false : undefined,
            bot_require_code_grant: paths.has("bot_require_code_grant") ? application?.botRequireCodeGrant ?? false : undefined,
          });
          return { application: applicationMessage(await applications.update(caller, req.applicationId, changes)) };
        }),

      createBot: (req, ctx) =>
        answer(async () => {
          const { token, bot } = await applications.createBot(await session(ctx), req.applicationId);
          return { token, bot: publicProfile(bot) };
        }),

      resetBotToken: (req, ctx) => answer(async () => ({ token: await applications.resetBotToken(await session(ctx), req.applicationId) })),

      authorizeBot: (req, ctx) =>
        answer(async () => {
          const member = await applications.authorizeBot(await session(ctx), {
            applicationId: req.applicationId,
            guildId: req.guildId,
            permissions: req.permissions,
          });
          return { member };
        }),
    });
}
