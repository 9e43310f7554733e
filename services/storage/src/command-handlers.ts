import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { create, toBinary } from "@bufbuild/protobuf";
import { ApplicationCommandSchema, type ApplicationCommand } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import { CommandStorageService } from "@chorus/contracts/chorus/storage/v1/commands_pb";
import type { CommandStore, ScopeChange } from "./command-store.js";
import { CommandIdTakenError, CommandLimitError, CommandNameTakenError, COMMAND_LIMITS, planCreate, planDelete, planOverwrite, planUpdate } from "./command-plan.js";
import { guarded, invalidArgument, requireId } from "./storage-errors.js";

const MAX_ID = (1n << 63n) - 1n;
/** An encoded command above this is refused: a scope (≤ 130 commands) stays one modest partition. */
export const MAX_COMMAND_BYTES = 64 * 1024;
const MAX_BULK = Object.values(COMMAND_LIMITS).reduce((a, b) => a + b, 0);

function checkGuild(field: string, guildId: bigint): bigint {
  if (guildId > MAX_ID) throw invalidArgument(field, "must be a snowflake below 2^63");
  return guildId;
}

/**
 * The storage-level sanity of a command (the Discord rules on names, options and descriptions
 * are the api's; storage keeps what makes its own keys and limits hold).
 */
function checkCommand(field: string, command: ApplicationCommand | undefined): ApplicationCommand {
  if (!command) throw invalidArgument(field, "required");
  requireId(`${field}.id`, command.id);
  requireId(`${field}.application_id`, command.applicationId);
  checkGuild(`${field}.guild_id`, command.guildId);
  if (!(command.type in COMMAND_LIMITS)) throw invalidArgument(`${field}.type`, "must be 1 (CHAT_INPUT), 2 (USER) or 3 (MESSAGE)");
  if (command.name.length < 1 || [...command.name].length > 32) throw invalidArgument(`${field}.name`, "1 to 32 characters");
  requireId(`${field}.version`, command.version);
  const copy = create(ApplicationCommandSchema, command);
  if (toBinary(ApplicationCommandSchema, copy).length > MAX_COMMAND_BYTES) throw invalidArgument(field, `at most ${MAX_COMMAND_BYTES} bytes encoded`);
  return copy;
}

function mapped(err: unknown): never {
  if (err instanceof CommandLimitError) throw new ConnectError(err.message, Code.ResourceExhausted);
  if (err instanceof CommandNameTakenError || err instanceof CommandIdTakenError) throw new ConnectError(err.message, Code.AlreadyExists);
  throw err;
}

/** The CommandStorageService handlers over a store. */
export function createCommandHandlers(store: CommandStore): Partial<ServiceImpl<typeof CommandStorageService>> {
  const write = <T>(applicationId: bigint, guildId: bigint, plan: (current: ApplicationCommand[]) => ScopeChange<T>): Promise<T> =>
    guarded(() => store.writeScope(applicationId, guildId, plan).catch(mapped));
  return {
    async getApplicationCommand(req) {
      requireId("application_id", req.applicationId);
      requireId("command_id", req.commandId);
      const command = await guarded(() => store.getCommand(req.applicationId, req.commandId));
      if (!command) throw new ConnectError(`command_id: application ${req.applicationId} has no command ${req.commandId}`, Code.NotFound);
      return { command };
    },
    async listApplicationCommands(req) {
      requireId("application_id", req.applicationId);
      checkGuild("guild_id", req.guildId);
      return { commands: await guarded(() => store.listCommands(req.applicationId, req.guildId)) };
    },
    async createApplicationCommand(req) {
      const command = checkCommand("command", req.command);
      const { command: stored, created } = await write(command.applicationId, command.guildId, (current) => planCreate(current, command));
      return { command: stored, created };
    },
    async updateApplicationCommand(req) {
      const command = checkCommand("command", req.command);
      const stored = await write(command.applicationId, command.guildId, (current) => planUpdate(current, command));
      if (!stored) throw new ConnectError(`command.id: no command ${command.id} in this scope`, Code.NotFound);
      return { command: stored };
    },
    async deleteApplicationCommand(req) {
      requireId("application_id", req.applicationId);
      checkGuild("guild_id", req.guildId);
      requireId("command_id", req.commandId);
      return { deleted: await write(req.applicationId, req.guildId, (current) => planDelete(current, req.commandId)) };
    },
    async bulkOverwriteApplicationCommands(req) {
      requireId("application_id", req.applicationId);
      checkGuild("guild_id", req.guildId);
      if (req.commands.length > MAX_BULK) throw invalidArgument("commands", `at most ${MAX_BULK}`);
      const ids = new Set<bigint>();
      const commands = req.commands.map((c, i) => {
        const command = checkCommand(`commands[${i}]`, c);
        if (command.applicationId !== req.applicationId || command.guildId !== req.guildId) {
          throw invalidArgument(`commands[${i}]`, "application_id and guild_id must be the request's");
        }
        if (ids.has(command.id)) throw invalidArgument(`commands[${i}].id`, "listed twice");
        ids.add(command.id);
        return command;
      });
      return { commands: await write(req.applicationId, req.guildId, (current) => planOverwrite(current, commands)) };
    },
  };
}
