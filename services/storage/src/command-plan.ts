import { create } from "@bufbuild/protobuf";
import { ApplicationCommandSchema, type ApplicationCommand } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import type { ScopeChange } from "./command-store.js";

/** Discord's limits per scope and command type (CHAT_INPUT, USER, MESSAGE). */
export const COMMAND_LIMITS: Readonly<Record<number, number>> = { 1: 100, 2: 15, 3: 15 };

/** A write would pass the limit of commands of a type in a scope (RESOURCE_EXHAUSTED). */
export class CommandLimitError extends Error {
  constructor(
    readonly type: number,
    readonly limit: number,
  ) {
    super(`type: at most ${limit} commands of type ${type} per application and scope`);
    this.name = "CommandLimitError";
  }
}

/** Another command of the scope has the type and name (ALREADY_EXISTS). */
export class CommandNameTakenError extends Error {
  constructor(readonly commandName: string) {
    super(`name: another command of this type is named "${commandName}"`);
    this.name = "CommandNameTakenError";
  }
}

/** Names are unique per scope and type; CHAT_INPUT names are lowercase, the others compare as given. */
const nameKey = (c: ApplicationCommand) => `${c.type}:${c.name}`;

function checkLimits(commands: readonly ApplicationCommand[]): void {
  const counts = new Map<number, number>();
  for (const c of commands) counts.set(c.type, (counts.get(c.type) ?? 0) + 1);
  for (const [type, count] of counts) {
    const limit = COMMAND_LIMITS[type];
    if (limit !== undefined && count > limit) throw new CommandLimitError(type, limit);
  }
}

/** Creates `command`, or replaces the scope's command of the same type and name, keeping its id. */
export function planCreate(current: readonly ApplicationCommand[], command: ApplicationCommand): ScopeChange<{ command: ApplicationCommand; created: boolean }> {
  const same = current.find((c) => nameKey(c) === nameKey(command));
  if (same) {
    const replaced = create(ApplicationCommandSchema, { ...command, id: same.id });
    return { put: [replaced], remove: [], result: { command: replaced, created: false } };
  }
  checkLimits([...current, command]);
  return { put: [command], remove: [], result: { command, created: true } };
}

/** Replaces the stored command with `command`'s id; undefined result when it does not exist. */
export function planUpdate(current: readonly ApplicationCommand[], command: ApplicationCommand): ScopeChange<ApplicationCommand | undefined> {
  const stored = current.find((c) => c.id === command.id);
  if (!stored) return { put: [], remove: [], result: undefined };
  if (current.some((c) => c.id !== command.id && nameKey(c) === nameKey(command))) throw new CommandNameTakenError(command.name);
  checkLimits(current.map((c) => (c.id === command.id ? command : c)));
  return { put: [command], remove: [], result: command };
}

export function planDelete(current: readonly ApplicationCommand[], commandId: bigint): ScopeChange<boolean> {
  const exists = current.some((c) => c.id === commandId);
  return { put: [], remove: exists ? [commandId] : [], result: exists };
}

/**
 * The scope becomes exactly `commands`: each matches a stored command by id, else by type and
 * name, and then keeps the stored id; the stored commands left unmatched are deleted. Duplicate
 * names in `commands` are refused (ALREADY_EXISTS).
 */
export function planOverwrite(current: readonly ApplicationCommand[], commands: readonly ApplicationCommand[]): ScopeChange<ApplicationCommand[]> {
  const byId = new Map(current.map((c) => [c.id, c]));
  const byName = new Map(current.map((c) => [nameKey(c), c]));
  const names = new Set<string>();
  const taken = new Set<bigint>();
  const next = commands.map((command) => {
    if (names.has(nameKey(command))) throw new CommandNameTakenError(command.name);
    names.add(nameKey(command));
    let match = byId.get(command.id);
    if (!match || taken.has(match.id)) match = byName.get(nameKey(command));
    if (match && taken.has(match.id)) match = undefined;
    if (!match) return command;
    taken.add(match.id);
    return create(ApplicationCommandSchema, { ...command, id: match.id });
  });
  checkLimits(next);
  const kept = new Set(next.map((c) => c.id));
  return {
    put: next,
    remove: current.filter((c) => !kept.has(c.id)).map((c) => c.id),
    result: [...next].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
}

/** A new command's id is already used by a command of another scope (ALREADY_EXISTS). */
export class CommandIdTakenError extends Error {
  constructor(readonly id: bigint) {
    super(`id: ${id} is already the id of another command`);
    this.name = "CommandIdTakenError";
  }
}
