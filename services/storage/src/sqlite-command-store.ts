import type Database from "better-sqlite3";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ApplicationCommandSchema } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import type { ApplicationCommand, CommandStore, QueryHook, ScopeChange } from "./command-store.js";
import { SqliteConnection, toDb } from "./sqlite-schema.js";
import { CommandIdTakenError } from "./command-plan.js";

export interface SqliteCommandStoreOptions {
  /** Database file (the message store's), or ":memory:". */
  path: string;
  onQuery?: QueryHook;
}

const decode = (blob: Buffer): ApplicationCommand => fromBinary(ApplicationCommandSchema, blob);

/** Application commands on SQLite (migration 10 in sqlite-schema.ts); each write is one IMMEDIATE transaction. */
export class SqliteCommandStore implements CommandStore {
  readonly backend = "sqlite" as const;
  private readonly connection: SqliteConnection<ReturnType<SqliteCommandStore["prepareStatements"]>>;

  constructor(private readonly options: SqliteCommandStoreOptions) {
    this.connection = new SqliteConnection(options.path, options.onQuery, (db) => this.prepareStatements(db));
  }

  async open(): Promise<void> {
    this.connection.open();
  }

  async close(): Promise<void> {
    this.connection.close();
  }

  private prepareStatements(db: Database.Database) {
    return {
      db,
      get: db.prepare<[bigint, bigint], Buffer>("SELECT command FROM application_commands WHERE command_id = ? AND application_id = ?").pluck(),
      list: db
        .prepare<[bigint, bigint], Buffer>("SELECT command FROM application_commands WHERE application_id = ? AND guild_id = ? ORDER BY command_id")
        .pluck(),
      put: db.prepare<[bigint, bigint, bigint, Buffer]>(
        `INSERT INTO application_commands (command_id, application_id, guild_id, command) VALUES (?, ?, ?, ?)
         ON CONFLICT (command_id) DO UPDATE SET command = excluded.command
         WHERE application_commands.application_id = excluded.application_id AND application_commands.guild_id = excluded.guild_id`,
      ),
      remove: db.prepare<[bigint, bigint, bigint]>("DELETE FROM application_commands WHERE command_id = ? AND application_id = ? AND guild_id = ?"),
    };
  }

  private query(operation: string): void {
    this.options.onQuery?.(operation);
  }

  getCommand(applicationId: bigint, commandId: bigint): Promise<ApplicationCommand | undefined> {
    return this.connection.run("get_application_command", (s) => {
      this.query("get_application_command");
      const blob = s.get.get(toDb(commandId), toDb(applicationId));
      return blob ? decode(blob) : undefined;
    });
  }

  listCommands(applicationId: bigint, guildId: bigint): Promise<ApplicationCommand[]> {
    return this.connection.run("list_application_commands", (s) => {
      this.query("list_application_commands");
      return s.list.all(toDb(applicationId), toDb(guildId)).map(decode);
    });
  }

  writeScope<T>(applicationId: bigint, guildId: bigint, plan: (current: ApplicationCommand[]) => ScopeChange<T>): Promise<T> {
    return this.connection.run("write_application_commands", (s) =>
      s.db
        .transaction(() => {
          this.query("write_application_commands");
          const change = plan(s.list.all(toDb(applicationId), toDb(guildId)).map(decode));
          for (const id of change.remove) s.remove.run(toDb(id), toDb(applicationId), toDb(guildId));
          for (const command of change.put) {
            const written = s.put.run(toDb(command.id), toDb(applicationId), toDb(guildId), Buffer.from(toBinary(ApplicationCommandSchema, command)));
            // The id belongs to another scope (ids are minted unique; this is a caller's bug).
            if (written.changes === 0) throw new CommandIdTakenError(command.id);
          }
          return change.result;
        })
        .immediate(),
    );
  }
}
