import type { ApplicationCommand } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import type { QueryHook } from "./message-store.js";

export type { ApplicationCommand, QueryHook };

/** What a write does to one (application, guild) scope, and what it answers. */
export interface ScopeChange<T> {
  /** Commands to store (new, or replacing the stored one with the same id). */
  put: ApplicationCommand[];
  /** Ids of stored commands to delete. */
  remove: bigint[];
  result: T;
}

/**
 * Application commands (the CommandStorageService contract), the same on Cassandra and SQLite
 * (test/command-conformance.ts). Writes go through `writeScope`: the store reads the scope's
 * commands, `plan` decides the change (pure, see command-plan.ts; it may throw to refuse),
 * and the store applies it atomically, serialized with every other write to that scope.
 */
export interface CommandStore {
  readonly backend: "sqlite" | "cassandra";
  open(): Promise<void>;
  close(): Promise<void>;
  /** One command of an application, whatever its scope; undefined when absent. */
  getCommand(applicationId: bigint, commandId: bigint): Promise<ApplicationCommand | undefined>;
  /** The commands of a scope (guild 0: global), ascending id. */
  listCommands(applicationId: bigint, guildId: bigint): Promise<ApplicationCommand[]>;
  writeScope<T>(applicationId: bigint, guildId: bigint, plan: (current: ApplicationCommand[]) => ScopeChange<T>): Promise<T>;
}
