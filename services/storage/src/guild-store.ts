import type { DirectoryKind } from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import type { QueryHook } from "./message-store.js";

export type { DirectoryKind, QueryHook };

/** An event as an append gives it: storage numbers it and never decodes the payload. */
export interface GuildEventInput {
  type: string;
  payload: Uint8Array;
  /** Milliseconds since the Unix epoch (both databases keep milliseconds). */
  createdAtMs: number;
  /** 0 for the system. */
  actorId: bigint;
}

/** An event of a guild's log. */
export interface GuildEvent extends GuildEventInput {
  /** From 1, without gaps. */
  seq: bigint;
}

export interface GuildEventPage {
  events: GuildEvent[];
  /** The log held events after the last one returned when it was read. */
  more: boolean;
}

export interface GuildSnapshotRecord {
  seq: bigint;
  state: Uint8Array;
  /** Milliseconds since the Unix epoch, when storage wrote the snapshot. */
  updatedAtMs: number;
}

/** The outcome of a directory claim. */
export interface DirectoryClaim {
  /** True when the claimer holds the key now (it was free, or the claimer held it already). */
  claimed: boolean;
  /** The holder of the key: the claimer when claimed. */
  ownerId: bigint;
}

export interface PutSnapshotResult {
  /** False when a snapshot with a higher seq was stored already (this one was ignored). */
  stored: boolean;
  /** The seq of the snapshot stored now. */
  seq: bigint;
}

/** A page of ReadGuildEvents stops before the event that would take its payloads over this. */
export const READ_PAGE_BYTES = 4 * 1024 * 1024;

/**
 * The log moved past the caller's expected_seq: another writer appended first, or a sequence
 * number the append needs is taken. Nothing was written (ABORTED: reload and retry).
 */
export class GuildLogConflictError extends Error {
  constructor(
    readonly guildId: bigint,
    readonly expectedSeq: bigint,
    /** The log's last seq as the database saw it. */
    readonly lastSeq: bigint,
    /** A seq the append needed that already exists, when that was the conflict. */
    readonly takenSeq?: bigint,
  ) {
    super(
      takenSeq === undefined
        ? `guild ${guildId}: the event log moved past expected_seq ${expectedSeq} (its last seq is ${lastSeq}); reload the guild and retry`
        : `guild ${guildId}: seq ${takenSeq} already exists, the event log moved past expected_seq ${expectedSeq}; reload the guild and retry`,
    );
    this.name = "GuildLogConflictError";
  }
}

/**
 * expected_seq is beyond the end of the log: appending would leave a gap. Nothing was written
 * (FAILED_PRECONDITION: the caller's view of the log is wrong).
 */
export class GuildLogGapError extends Error {
  constructor(
    readonly guildId: bigint,
    readonly expectedSeq: bigint,
    readonly lastSeq: bigint,
  ) {
    super(
      `guild ${guildId}: expected_seq ${expectedSeq} is beyond the end of the event log (its last seq is ${lastSeq}); appends never leave gaps`,
    );
    this.name = "GuildLogGapError";
  }
}

/**
 * Collects one page of events offered in seq order: at most `limit` events, and no more than
 * READ_PAGE_BYTES of payload unless the first event alone is bigger. Offer up to limit+1
 * rows, so that `more` is exact. Both backends page with this, so their pages are identical.
 */
export class PageCollector {
  private readonly events: GuildEvent[] = [];
  private bytes = 0;
  private full = false;

  constructor(private readonly limit: number) {}

  /** Takes the event into the page; false when the page is complete (the event is left out, `more` is set). */
  offer(event: GuildEvent): boolean {
    if (this.full) return false;
    if (this.events.length === this.limit || (this.events.length > 0 && this.bytes + event.payload.length > READ_PAGE_BYTES)) {
      this.full = true;
      return false;
    }
    this.events.push(event);
    this.bytes += event.payload.length;
    return true;
  }

  page(): GuildEventPage {
    return { events: this.events, more: this.full };
  }
}

/**
 * The durable store behind guild ownership. Two implementations with identical semantics,
 * proved by one conformance suite (test/guild-conformance.ts): Cassandra/ScyllaDB (cluster
 * mode) and SQLite (embedded mode, in the same file as the messages).
 *
 * Ids and sequence numbers are below 2^63 (the handlers check it).
 */
export interface GuildStore {
  readonly backend: "cassandra" | "sqlite";

  /** Connects and applies the schema migrations that are missing (idempotent). */
  open(): Promise<void>;

  /**
   * Appends `events` as expectedSeq+1 ... expectedSeq+n, all or none, and returns the new last
   * seq. Throws GuildLogConflictError when the log ends after expectedSeq or one of the seqs
   * is taken, GuildLogGapError when it ends before expectedSeq.
   */
  append(guildId: bigint, expectedSeq: bigint, events: readonly GuildEventInput[]): Promise<bigint>;

  /** Events with seq > afterSeq in order, paged as PageCollector does. */
  read(guildId: bigint, afterSeq: bigint, limit: number): Promise<GuildEventPage>;

  /** The last seq of the log, 0 when it has none. */
  head(guildId: bigint): Promise<bigint>;

  /** Keeps the snapshot unless one with a higher seq is stored (equal seqs replace). */
  putSnapshot(guildId: bigint, seq: bigint, state: Uint8Array): Promise<PutSnapshotResult>;

  /** The stored snapshot, or undefined. */
  getSnapshot(guildId: bigint): Promise<GuildSnapshotRecord | undefined>;

  /** Idempotent. */
  addUserGuild(userId: bigint, guildId: bigint): Promise<void>;

  /** Idempotent. */
  removeUserGuild(userId: bigint, guildId: bigint): Promise<void>;

  /** Guild ids above `afterGuildId`, ascending, at most `limit`. */
  listUserGuilds(userId: bigint, afterGuildId: bigint, limit: number): Promise<bigint[]>;

  /**
   * Records `ownerId` as the holder of the key unless another owner holds it (then changes
   * nothing and returns that holder). Of concurrent claims of one free key exactly one wins;
   * claiming again for the holder is harmless.
   */
  claimDirectoryEntry(kind: DirectoryKind, key: string, ownerId: bigint): Promise<DirectoryClaim>;

  /** The holder of the key, or undefined. */
  getDirectoryEntry(kind: DirectoryKind, key: string): Promise<bigint | undefined>;

  /** Frees the key if `ownerId` holds it; true when it did (false changes nothing). */
  releaseDirectoryEntry(kind: DirectoryKind, key: string, ownerId: bigint): Promise<boolean>;

  close(): Promise<void>;
}
