import type { FastifyInstance, FastifyRequest } from "fastify";
import { validate } from "../../accounts/account-rules.js";
import type { Accounts } from "../../accounts/accounts.js";
import { MAX_AVATAR_BYTES } from "../../accounts/avatars.js";
import { applicationChangesSchema, applicationCreationSchema } from "../../applications/application-rules.js";
import type { Applications } from "../../applications/applications.js";
import { discordPrivateApplication } from "../applications.js";
import { requireSession } from "../auth.js";
import { answerRefusals } from "../refusals.js";
import { pathSnowflake } from "../path-ids.js";

/** Room for the largest icon as a base64 data URI (4/3 of its size) and the other fields. */
const APPLICATION_BODY_LIMIT = Math.ceil((MAX_AVATAR_BYTES * 4) / 3) + 64 * 1024;

type ById = { Params: { id: string } };

/**
 * Discord's application routes: the developer portal's (/applications, /applications/:id,
 * bots and bot tokens, for the owner's user token) and the bot's own (/applications/@me and
 * /oauth2/applications/@me, for a Bot token).
 */
export function applicationRoutes(accounts: Accounts, applications: Applications) {
  return async (app: FastifyInstance) => {
    answerRefusals(app);
    // A person's token or a bot's: the logic tells which routes take which.
    const session = (request: FastifyRequest) => requireSession(accounts, request);

    app.post("/applications", async (request, reply) => {
      const caller = await session(request);
      const input = validate(applicationCreationSchema, request.body ?? {});
      return reply.code(201).send(discordPrivateApplication(await applications.create(caller, input)));
    });

    app.get("/applications", async (request) => (await applications.list(await session(request))).map(discordPrivateApplication));

    for (const path of ["/applications/@me", "/oauth2/applications/@me"]) {
      app.get(path, async (request) => discordPrivateApplication(await applications.current(await session(request))));
    }

    app.patch("/applications/@me", { bodyLimit: APPLICATION_BODY_LIMIT }, async (request) => {
      const caller = await session(request);
      const changes = validate(applicationChangesSchema, request.body ?? {});
      return discordPrivateApplication(await applications.update(caller, (await applications.current(caller)).application.id, changes));
    });

    app.get<ById>("/applications/:id", async (request) => {
      const caller = await session(request);
      return discordPrivateApplication(await applications.get(caller, pathSnowflake("application_id", request.params.id)));
    });

    app.patch<ById>("/applications/:id", { bodyLimit: APPLICATION_BODY_LIMIT }, async (request) => {
      const caller = await session(request);
      const applicationId = pathSnowflake("application_id", request.params.id);
      const changes = validate(applicationChangesSchema, request.body ?? {});
      return discordPrivateApplication(await applications.update(caller, applicationId, changes));
    });

    app.post<ById>("/applications/:id/bot", async (request) => {
      const caller = await session(request);
      const { token } = await applications.createBot(caller, pathSnowflake("application_id", request.params.id));
      return { token };
    });

    app.post<ById>("/applications/:id/bot/reset", async (request) => {
      const caller = await session(request);
      return { token: await applications.resetBotToken(caller, pathSnowflake("application_id", request.params.id)) };
    });
  };
}
