import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { InvalidFieldsError } from "../../accounts/account-errors.js";
import type { Accounts } from "../../accounts/accounts.js";
import { validate } from "../../accounts/account-rules.js";
import { EDITABLE_COMMAND_FIELDS, validateCommand } from "../../applications/command-rules.js";
import type { ApplicationCommands, CommandScope } from "../../applications/commands.js";
import { requireSession } from "../auth.js";
import { commandBody, discordCommand } from "../commands.js";
import { pathSnowflake } from "../path-ids.js";
import { answerRefusals } from "../refusals.js";

type ScopeParams = { application_id: string; guild_id?: string };
type CommandParams = ScopeParams & { command_id: string };

/** Discord's cap on a bulk overwrite: every command type at its limit (100 + 15 + 15). */
const MAX_BULK_COMMANDS = 130;

const bulkSchema = z.array(z.unknown());

/**
 * Discord's application command routes, global (/applications/:id/commands) and per guild
 * (/applications/:id/guilds/:guild_id/commands), for the application's bot token or its
 * owner's token, and the read-only permissions routes.
 */
export function commandRoutes(accounts: Accounts, commands: ApplicationCommands) {
  return async (app: FastifyInstance) => {
    answerRefusals(app);
    const session = (request: FastifyRequest) => requireSession(accounts, request);
    const scopeOf = (params: ScopeParams): CommandScope => ({
      applicationId: pathSnowflake("application_id", params.application_id),
      guildId: params.guild_id === undefined ? 0n : pathSnowflake("guild_id", params.guild_id),
    });
    const commandId = (params: CommandParams) => pathSnowflake("command_id", params.command_id);

    for (const base of ["/applications/:application_id/commands", "/applications/:application_id/guilds/:guild_id/commands"]) {
      app.get<{ Params: ScopeParams }>(base, async (request) => (await commands.list(await session(request), scopeOf(request.params))).map(discordCommand));

      app.post<{ Params: ScopeParams }>(base, async (request, reply) => {
        const caller = await session(request);
        const scope = scopeOf(request.params);
        const body = validateCommand(request.body ?? {});
        const { command, created } = await commands.create(caller, scope, body);
        return reply.code(created ? 201 : 200).send(discordCommand(command));
      });

      app.put<{ Params: ScopeParams }>(base, async (request) => {
        const caller = await session(request);
        const scope = scopeOf(request.params);
        const items = validate(bulkSchema, request.body ?? null);
        if (items.length > MAX_BULK_COMMANDS) {
          throw new InvalidFieldsError([{ path: [], code: "BASE_TYPE_MAX_LENGTH", message: `Must be ${MAX_BULK_COMMANDS} or fewer in length.` }]);
        }
        // Every element is checked, and all refusals reported at once under their index.
        const errors: InvalidFieldsError["errors"] = [];
        const bodies = items.map((item, i) => {
          try {
            return validateCommand(item);
          } catch (err) {
            if (!(err instanceof InvalidFieldsError)) throw err;
            errors.push(...err.errors.map((e) => ({ ...e, path: [String(i), ...e.path] })));
            return undefined;
          }
        });
        if (errors.length > 0) throw new InvalidFieldsError(errors);
        return (await commands.overwrite(caller, scope, bodies.map((b) => b!))).map(discordCommand);
      });

      app.get<{ Params: CommandParams }>(`${base}/:command_id`, async (request) =>
        discordCommand(await commands.get(await session(request), scopeOf(request.params), commandId(request.params))),
      );

      app.patch<{ Params: CommandParams }>(`${base}/:command_id`, async (request) => {
        const caller = await session(request);
        const scope = scopeOf(request.params);
        const id = commandId(request.params);
        const changes = (request.body ?? {}) as Record<string, unknown>;
        if (typeof changes !== "object" || Array.isArray(changes)) validate(z.object({}), changes);
        const command = await commands.edit(caller, scope, id, (stored) => {
          const merged: Record<string, unknown> = { ...commandBody(stored) };
          for (const key of EDITABLE_COMMAND_FIELDS) if (key in changes) merged[key] = changes[key];
          return validateCommand(merged);
        });
        return discordCommand(command);
      });

      app.delete<{ Params: CommandParams }>(`${base}/:command_id`, async (request, reply) => {
        await commands.delete(await session(request), scopeOf(request.params), commandId(request.params));
        return reply.code(204).send();
      });
    }

    app.get<{ Params: ScopeParams }>("/applications/:application_id/guilds/:guild_id/commands/permissions", async (request) =>
      commands.guildPermissions(await session(request), scopeOf(request.params)),
    );

    app.get<{ Params: CommandParams }>("/applications/:application_id/guilds/:guild_id/commands/:command_id/permissions", async (request) =>
      commands.commandPermissions(await session(request), scopeOf(request.params), commandId(request.params)),
    );
  };
}
