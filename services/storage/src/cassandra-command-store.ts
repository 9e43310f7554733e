import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ApplicationCommandSchema } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import { CassandraBackedStore } from "./cassandra-session.js";
import type { ApplicationCommand, CommandStore, ScopeChange } from "./command-store.js";
import { CommandIdTakenError } from "./command-plan.js";
import { StoreContentionError } from "./storage-errors.js";

/** Attempts of one write when other writes to the scope keep landing first. */
const MAX_WRITE_ATTEMPTS = 30;

/** A short random pause before re-planning, so racing writers spread out. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 5 * attempt)));

const decode = (blob: Buffer): ApplicationCommand => fromBinary(ApplicationCommandSchema, blob);

/**
 * Application commands on Cassandra/ScyllaDB (migration 10). A scope (application, guild) is
 * one partition of `application_commands`; every write reads the partition with its static
 * `revision`, plans the change, and applies it as one conditional batch on that partition
 * (`UPDATE ... SET revision = r+1 IF revision = r` plus the inserts and deletes): Cassandra
 * applies all of it or nothing, and of concurrent writes planned on the same revision exactly
 * one lands; the others read again and re-plan. `application_command_scopes` maps a command id
 * to its scope; it is written before the batch and cleaned after it, so a command that exists
 * is always found, and an entry whose command is gone is ignored.
 */
export class CassandraCommandStore extends CassandraBackedStore implements CommandStore {
  async getCommand(applicationId: bigint, commandId: bigint): Promise<ApplicationCommand | undefined> {
    const scope = (
      await this.session.execute("get_application_command_scope", `SELECT application_id, guild_id FROM ${this.ks}.application_command_scopes WHERE command_id = ?`, [commandId])
    ).first();
    if (!scope || (scope.application_id as bigint) !== applicationId) return undefined;
    const row = (
      await this.session.execute(
        "get_application_command",
        `SELECT command FROM ${this.ks}.application_commands WHERE application_id = ? AND guild_id = ? AND command_id = ?`,
        [applicationId, scope.guild_id as bigint, commandId],
      )
    ).first();
    const blob = row?.command as Buffer | null | undefined;
    return blob ? decode(blob) : undefined;
  }

  async listCommands(applicationId: bigint, guildId: bigint): Promise<ApplicationCommand[]> {
    return (await this.readScope(applicationId, guildId)).commands;
  }

  /** The scope's commands (ascending id) and revision (null before its first write). */
  private async readScope(applicationId: bigint, guildId: bigint): Promise<{ commands: ApplicationCommand[]; revision: bigint | null }> {
    const rows = await this.session.all(
      "list_application_commands",
      `SELECT revision, command_id, command FROM ${this.ks}.application_commands WHERE application_id = ? AND guild_id = ?`,
      [applicationId, guildId],
    );
    const revision = (rows[0]?.revision as bigint | null | undefined) ?? null;
    // A partition whose commands were all deleted still has its static row (command_id null).
    const commands = rows.flatMap((r) => (r.command ? [decode(r.command as Buffer)] : []));
    return { commands, revision };
  }

  async writeScope<T>(applicationId: bigint, guildId: bigint, plan: (current: ApplicationCommand[]) => ScopeChange<T>): Promise<T> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      // A stale read only costs a retry: the batch's condition refuses it.
      const { commands, revision } = await this.readScope(applicationId, guildId);
      const change = plan(commands);
      if (change.put.length === 0 && change.remove.length === 0) return change.result;
      const existing = new Set(commands.map((c) => c.id));
      const fresh = change.put.filter((c) => !existing.has(c.id));
      await this.claimIds(applicationId, guildId, fresh);
      const queries = [
        {
          query: `UPDATE ${this.ks}.application_commands SET revision = ? WHERE application_id = ? AND guild_id = ? IF revision = ?`,
          params: [(revision ?? 0n) + 1n, applicationId, guildId, revision],
        },
        ...change.remove.map((id) => ({
          query: `DELETE FROM ${this.ks}.application_commands WHERE application_id = ? AND guild_id = ? AND command_id = ?`,
          params: [applicationId, guildId, id],
        })),
        ...change.put.map((c) => ({
          query: `INSERT INTO ${this.ks}.application_commands (application_id, guild_id, command_id, command) VALUES (?, ?, ?, ?)`,
          params: [applicationId, guildId, c.id, Buffer.from(toBinary(ApplicationCommandSchema, c))],
        })),
      ];
      const result = await this.session.batch("write_application_commands", queries);
      if (!result.wasApplied()) {
        await backoff(attempt);
        continue;
      }
      const removed = change.remove.filter((id) => !change.put.some((c) => c.id === id));
      await Promise.all(
        removed.map((id) =>
          this.session.execute(
            "delete_application_command_scope",
            `DELETE FROM ${this.ks}.application_command_scopes WHERE command_id = ? IF application_id = ? AND guild_id = ?`,
            [id, applicationId, guildId],
          ),
        ),
      );
      return change.result;
    }
    throw new StoreContentionError(`application commands of ${applicationId}/${guildId}: other writes kept landing first; retry`);
  }

  /** Records the scope of new command ids; an id another scope holds is refused. */
  private async claimIds(applicationId: bigint, guildId: bigint, commands: readonly ApplicationCommand[]): Promise<void> {
    await Promise.all(
      commands.map(async (c) => {
        const claim = await this.session.execute(
          "put_application_command_scope",
          `INSERT INTO ${this.ks}.application_command_scopes (command_id, application_id, guild_id) VALUES (?, ?, ?) IF NOT EXISTS`,
          [c.id, applicationId, guildId],
        );
        if (claim.wasApplied()) return;
        const holder = claim.first();
        if ((holder?.application_id as bigint) !== applicationId || (holder?.guild_id as bigint) !== guildId) throw new CommandIdTakenError(c.id);
      }),
    );
  }
}
