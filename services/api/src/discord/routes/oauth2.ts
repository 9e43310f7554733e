import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { InvalidFieldsError, fieldError, type FieldError } from "../../accounts/account-errors.js";
import { validate } from "../../accounts/account-rules.js";
import type { Accounts } from "../../accounts/accounts.js";
import { parsePermissions } from "../../applications/application-rules.js";
import type { Applications } from "../../applications/applications.js";
import { discordApplication } from "../applications.js";
import { requireSession } from "../auth.js";
import { pathSnowflake } from "../path-ids.js";
import { answerRefusals } from "../refusals.js";
import { discordUser } from "@chorus/discord-json/users";

/** Where Discord sends a person after authorizing a bot without a redirect URI. */
export const AUTHORIZED_LOCATION = "https://discord.com/oauth2/authorized";

type AuthorizeQuery = Record<string, string | string[] | undefined>;

/** A query parameter given once (the first, when repeated); undefined when absent. */
const param = (query: AuthorizeQuery, name: string) => {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
};

/** `check()`'s value, or undefined with its form errors added to `errors`. */
function collecting<T>(errors: FieldError[], check: () => T): T | undefined {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof InvalidFieldsError)) throw err;
    errors.push(...err.errors);
    return undefined;
  }
}

function snowflakeOrError(value: unknown, field: string, errors: FieldError[]): bigint | undefined {
  if (value === undefined || value === null || value === "") {
    errors.push(fieldError(field, "BASE_TYPE_REQUIRED", "This field is required"));
    return undefined;
  }
  return collecting(errors, () => pathSnowflake(field, String(value)));
}

/**
 * What Discord's OAuth2 authorization asks of the query: the application (client_id), the
 * `bot` scope (the only one Chorus grants so far) and no redirect URI (applications cannot
 * register one yet, and an unregistered one is refused, as on Discord). Every bad parameter
 * is named at once.
 */
export function botAuthorizationQuery(query: AuthorizeQuery, errors: FieldError[]): { applicationId?: bigint } {
  const applicationId = snowflakeOrError(param(query, "client_id"), "client_id", errors);
  const scopes = (param(query, "scope") ?? "").split(/[\s+]+/).filter(Boolean);
  if (!scopes.includes("bot")) {
    errors.push(fieldError("scope", scopes.length === 0 ? "BASE_TYPE_REQUIRED" : "OAUTH2_SCOPE_UNSUPPORTED", 'Chorus grants the "bot" scope only; it is required.'));
  }
  if (param(query, "redirect_uri")) {
    errors.push(fieldError("redirect_uri", "INVALID_OAUTH2_REDIRECT_URI", "Invalid OAuth2 redirect_uri: the application has none registered."));
  }
  return { applicationId };
}

/** The body of POST /oauth2/authorize; Discord's client also sends captcha and integration fields, ignored. */
const authorizeBodySchema = z.object({
  guild_id: z.unknown().optional(),
  permissions: z.unknown().optional(),
  authorize: z.boolean(),
});

/** Discord's OAuth2 authorization of the `bot` scope: adding an application's bot to a guild. */
export function oauth2Routes(accounts: Accounts, applications: Applications) {
  return async (app: FastifyInstance) => {
    answerRefusals(app);

    // What Discord's client shows before a person authorizes: the application and its bot.
    app.get<{ Querystring: AuthorizeQuery }>("/oauth2/authorize", async (request) => {
      const session = await requireSession(accounts, request);
      const errors: FieldError[] = [];
      const { applicationId } = botAuthorizationQuery(request.query, errors);
      if (errors.length > 0) throw new InvalidFieldsError(errors);
      const { application, bot } = await applications.authorizationPreview(session, applicationId!);
      const me = await accounts.currentUser(session);
      return {
        application: discordApplication(application, bot),
        bot: discordUser(bot),
        user: discordUser(me),
        authorized: false,
        redirect_uri: null,
      };
    });

    app.post<{ Querystring: AuthorizeQuery }>("/oauth2/authorize", async (request) => {
      const session = await requireSession(accounts, request);
      const errors: FieldError[] = [];
      const { applicationId } = botAuthorizationQuery(request.query, errors);
      const body = collecting(errors, () => validate(authorizeBodySchema, request.body ?? {}));
      // Read from the body even when it failed validation, so that every bad field is named at once.
      const fields = (typeof request.body === "object" && request.body !== null ? request.body : {}) as Record<string, unknown>;
      // The body's choices win over the query's, as the authorization screen can change them.
      const guildId = snowflakeOrError(fields.guild_id ?? param(request.query, "guild_id"), "guild_id", errors);
      const requested = fields.permissions ?? param(request.query, "permissions");
      const permissions = requested === undefined || requested === null || requested === "" ? 0n : collecting(errors, () => parsePermissions(requested, "permissions"));
      if (errors.length > 0 || !body) throw new InvalidFieldsError(errors);
      // Declined: nothing happens, and Discord sends the person back with access_denied.
      if (!body.authorize) return { location: `${AUTHORIZED_LOCATION}?error=access_denied` };
      await applications.authorizeBot(session, { applicationId: applicationId!, guildId: guildId!, permissions: permissions! });
      return { location: AUTHORIZED_LOCATION };
    });
  };
}
