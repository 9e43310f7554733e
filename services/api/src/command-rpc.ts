import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import type { ApplicationCommand } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import { ApplicationCommandService } from "@chorus/contracts/chorus/api/v1/commands_pb";
import { answer, bearerSession } from "./account-rpc.js";
import { InvalidFieldsError } from "./accounts/account-errors.js";
import type { Accounts } from "./accounts/accounts.js";
import { EDITABLE_COMMAND_FIELDS, validateCommand } from "./applications/command-rules.js";
import type { ApplicationCommands, CommandScope } from "./applications/commands.js";
import { commandBody } from "./discord/commands.js";

/** A command message as a Discord body, validated by the same rules as the Discord routes. */
function bodyOf(command: ApplicationCommand | undefined, prefix: string[] = []) {
  const body = command ? (commandBody(command) as Record<string, unknown>) : {};
  // The message's type 0 is "unset": Discord's default, CHAT_INPUT.
  if (command && command.type === 0) body.type = 1;
  try {
    return validateCommand(body);
  } catch (err) {
    if (err instanceof InvalidFieldsError && prefix.length > 0) throw new InvalidFieldsError(err.errors.map((e) => ({ ...e, path: [...prefix, ...e.path] })));
    throw err;
  }
}

/**
 * chorus.api.v1.ApplicationCommandService: an application's commands for first-party
 * clients, on the same logic and validation as the Discord routes (the owner's
 * `Authorization: Bearer <token>`).
 */
export function commandRpcRoutes(accounts: Accounts, commands: ApplicationCommands) {
  const session = (ctx: HandlerContext) => bearerSession(accounts, ctx);
  const scopeOf = (req: { applicationId: bigint; guildId: bigint }): CommandScope => ({ applicationId: req.applicationId, guildId: req.guildId });

  return (router: ConnectRouter) =>
    router.service(ApplicationCommandService, {
      listApplicationCommands: (req, ctx) => answer(async () => ({ commands: await commands.list(await session(ctx), scopeOf(req)) })),

      getApplicationCommand: (req, ctx) => answer(async () => ({ command: await commands.get(await session(ctx), scopeOf(req), req.commandId) })),

      createApplicationCommand: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          return commands.create(caller, scopeOf(req), bodyOf(req.command, ["command"]));
        }),

      updateApplicationCommand: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          const paths = req.updateMask?.paths ?? [];
          const unknown = paths.filter((p) => !EDITABLE_COMMAND_FIELDS.has(p));
          if (unknown.length > 0) {
            throw new InvalidFieldsError([{ path: ["update_mask"], code: "BASE_TYPE_CHOICES", message: `cannot update ${unknown.join(", ")}` }]);
          }
          const changes = req.command ? (commandBody(req.command) as Record<string, unknown>) : {};
          const command = await commands.edit(caller, scopeOf(req), req.commandId, (stored) => {
            const merged: Record<string, unknown> = { ...commandBody(stored) };
            for (const path of paths) merged[path] = changes[path] ?? null;
            return validateCommand(merged);
          });
          return { command };
        }),

      deleteApplicationCommand: (req, ctx) =>
        answer(async () => {
          await commands.delete(await session(ctx), scopeOf(req), req.commandId);
          return {};
        }),

      bulkOverwriteApplicationCommands: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          const bodies = req.commands.map((c, i) => {
            const body = bodyOf(c, ["commands", String(i)]);
            return { ...body, id: c.id === 0n ? undefined : c.id.toString() };
          });
          return { commands: await commands.overwrite(caller, scopeOf(req), bodies) };
        }),
    });
}
