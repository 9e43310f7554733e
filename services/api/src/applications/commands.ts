import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MeshClients } from "@chorus/mesh";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { ApplicationCommandSchema, type ApplicationCommand } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import { CommandStorageService } from "@chorus/contracts/chorus/storage/v1/commands_pb";
import { InvalidFieldsError, RequestRefusedError } from "../accounts/account-errors.js";
import type { Session } from "../accounts/accounts.js";
import { GuildRequestError } from "../guilds/guild-errors.js";
import type { Guilds } from "../guilds/guilds.js";
import type { Applications } from "./applications.js";
import { commandInit, type CommandBody } from "./command-rules.js";

export type { ApplicationCommand };

/** Which commands a request is about: the application's global ones (guildId 0) or one guild's. */
export interface CommandScope {
  applicationId: bigint;
  guildId: bigint;
}

const unknownCommand = () => new RequestRefusedError("not_found", RESTJSONErrorCodes.UnknownApplicationCommand, "Unknown application command", "command_id");
const missingAccess = () => new RequestRefusedError("forbidden", RESTJSONErrorCodes.MissingAccess, "Missing Access", "guild_id");
const unknownPermissions = () =>
  new RequestRefusedError("not_found", RESTJSONErrorCodes.UnknownApplicationCommandPermissions, "Unknown application command permissions", "command_id");

const isCode = (err: unknown, code: Code, field?: string) =>
  err instanceof ConnectError && err.code === code && (field === undefined || err.rawMessage.startsWith(`${field}:`));

/** Storage's refusals in Discord's words: the per-type limit (30032), a name taken by a PATCH. */
function fromStorage(err: unknown, path: string[] = ["name"]): never {
  if (isCode(err, Code.ResourceExhausted)) {
    throw new RequestRefusedError(
      "precondition",
      RESTJSONErrorCodes.MaximumNumberOfApplicationCommandsReached,
      "Maximum number of application commands reached",
      "type",
    );
  }
  if (isCode(err, Code.AlreadyExists, "name")) {
    throw new InvalidFieldsError([{ path, code: "APPLICATION_COMMANDS_DUPLICATE_NAME", message: "Application command names must be unique" }]);
  }
  throw err;
}

/** What the permissions routes answer: Discord's GuildApplicationCommandPermissions. */
export interface CommandPermissions {
  id: string;
  application_id: string;
  guild_id: string;
  permissions: never[];
}

/**
 * Application commands, global and per guild, over CommandStorageService (routed by
 * application id). Stateless. Callers: the application's bot, or its owner; guild commands
 * need the application's bot in the guild (50001 Missing Access otherwise, as on Discord).
 */
export class ApplicationCommands {
  constructor(
    private readonly clients: MeshClients,
    private readonly ids: SnowflakeGenerator,
    private readonly applications: Applications,
    private readonly guilds: Guilds,
  ) {}

  private storage(applicationId: bigint) {
    return this.clients.client(CommandStorageService, applicationId);
  }

  /** Checks the caller may manage the scope's commands. */
  private async authorize(session: Session, scope: CommandScope): Promise<void> {
    const application = await this.applications.commandManager(session, scope.applicationId);
    if (scope.guildId === 0n) return;
    const botId = application.botUserId;
    if (botId === undefined) throw missingAccess();
    try {
      await this.guilds.getMember(botId, scope.guildId, botId);
    } catch (err) {
      // Not a member, or no such guild: Discord tells neither apart here.
      if (err instanceof GuildRequestError && (err.code === Code.NotFound || err.code === Code.PermissionDenied)) throw missingAccess();
      throw err;
    }
  }

  async list(session: Session, scope: CommandScope): Promise<ApplicationCommand[]> {
    await this.authorize(session, scope);
    return (await this.storage(scope.applicationId).listApplicationCommands(scope)).commands;
  }

  async get(session: Session, scope: CommandScope, commandId: bigint): Promise<ApplicationCommand> {
    await this.authorize(session, scope);
    return this.stored(scope, commandId);
  }

  private async stored(scope: CommandScope, commandId: bigint): Promise<ApplicationCommand> {
    if (commandId === 0n) throw unknownCommand();
    try {
      const { command } = await this.storage(scope.applicationId).getApplicationCommand({ applicationId: scope.applicationId, commandId });
      if (command!.guildId !== scope.guildId) throw unknownCommand();
      return command!;
    } catch (err) {
      if (isCode(err, Code.NotFound)) throw unknownCommand();
      throw err;
    }
  }

  private build(scope: CommandScope, body: CommandBody, id: bigint): ApplicationCommand {
    return create(ApplicationCommandSchema, { ...commandInit(body), id, applicationId: scope.applicationId, guildId: scope.guildId, version: this.ids.next() });
  }

  /** Creates a command, or replaces the one of the same type and name (created false). */
  async create(session: Session, scope: CommandScope, body: CommandBody): Promise<{ command: ApplicationCommand; created: boolean }> {
    await this.authorize(session, scope);
    const command = this.build(scope, body, this.ids.next());
    try {
      const answer = await this.storage(scope.applicationId).createApplicationCommand({ command });
      return { command: answer.command!, created: answer.created };
    } catch (err) {
      fromStorage(err);
    }
  }

  /**
   * Changes a command: `merge` turns the stored command into the new body (PATCH semantics:
   * the fields sent replace the stored ones); the type never changes.
   */
  async edit(session: Session, scope: CommandScope, commandId: bigint, merge: (stored: ApplicationCommand) => CommandBody): Promise<ApplicationCommand> {
    await this.authorize(session, scope);
    const stored = await this.stored(scope, commandId);
    const command = this.build(scope, { ...merge(stored), type: stored.type }, stored.id);
    try {
      return (await this.storage(scope.applicationId).updateApplicationCommand({ command })).command!;
    } catch (err) {
      if (isCode(err, Code.NotFound)) throw unknownCommand();
      fromStorage(err);
    }
  }

  async delete(session: Session, scope: CommandScope, commandId: bigint): Promise<void> {
    await this.authorize(session, scope);
    const { deleted } = await this.storage(scope.applicationId).deleteApplicationCommand({ ...scope, commandId });
    if (!deleted) throw unknownCommand();
  }

  /**
   * Replaces the scope's commands with `bodies`: a body naming the id of a command of the
   * scope, or matching one by type and name, updates it (its id stays); the others are new;
   * the commands not named are deleted.
   */
  async overwrite(session: Session, scope: CommandScope, bodies: readonly CommandBody[]): Promise<ApplicationCommand[]> {
    await this.authorize(session, scope);
    const names = new Map<string, number>();
    const duplicates = bodies.flatMap((body, i) => {
      const key = `${body.type ?? 1}:${body.name}`;
      const first = names.get(key);
      names.set(key, first ?? i);
      return first === undefined ? [] : [{ path: [String(i), "name"], code: "APPLICATION_COMMANDS_DUPLICATE_NAME", message: "Application command names must be unique" }];
    });
    if (duplicates.length > 0) throw new InvalidFieldsError(duplicates);
    // Ids sent in the body count only when they are commands of this scope.
    const current = new Set((await this.storage(scope.applicationId).listApplicationCommands(scope)).commands.map((c) => c.id));
    const used = new Set<bigint>();
    const commands = bodies.map((body) => {
      const given = body.id === undefined || body.id === null ? undefined : BigInt(body.id);
      const id = given !== undefined && current.has(given) && !used.has(given) ? given : this.ids.next();
      used.add(id);
      return this.build(scope, body, id);
    });
    try {
      return (await this.storage(scope.applicationId).bulkOverwriteApplicationCommands({ ...scope, commands })).commands;
    } catch (err) {
      fromStorage(err, ["name"]);
    }
  }

  /**
   * The permission overwrites of a guild's commands. Chorus stores none yet (commands are
   * gated by default_member_permissions alone), so this is Discord's answer for a guild
   * without overwrites: an empty list.
   */
  async guildPermissions(session: Session, scope: CommandScope): Promise<CommandPermissions[]> {
    await this.authorize(session, scope);
    return [];
  }

  /** One command's overwrites: Discord's 10066 when it has none (always, for now). */
  async commandPermissions(session: Session, scope: CommandScope, commandId: bigint): Promise<CommandPermissions> {
    await this.authorize(session, scope);
    const command = await this.storage(scope.applicationId)
      .getApplicationCommand({ applicationId: scope.applicationId, commandId })
      .catch((err: unknown) => {
        if (isCode(err, Code.NotFound)) throw unknownCommand();
        throw err;
      });
    if (!command.command || (command.command.guildId !== 0n && command.command.guildId !== scope.guildId)) throw unknownCommand();
    throw unknownPermissions();
  }
}
