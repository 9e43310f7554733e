import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  DirectoryKind,
  GuildEventRecordSchema,
  GuildSnapshotSchema,
  GuildStorageService,
  type GuildEventRecord,
} from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import type { GuildEvent, GuildEventInput, GuildStore } from "./guild-store.js";
import { guarded, invalidArgument, requireId } from "./storage-errors.js";

/** Events per append. */
export const MAX_APPEND_EVENTS = 100;
/** Payload of one event. */
export const MAX_EVENT_PAYLOAD_BYTES = 64 * 1024;
/**
 * Payloads of one append together: one Cassandra mutation (the batch), which must stay well
 * below half a commit-log segment (4 MiB on the dev node's 8 MiB segments).
 */
export const MAX_APPEND_PAYLOAD_BYTES = 1024 * 1024;
/** Snapshot state: one Cassandra mutation, below the dev node's 4 MiB limit with room to spare. */
export const MAX_SNAPSHOT_BYTES = 3 * 1024 * 1024;
export const MAX_TYPE_LENGTH = 100;
export const MAX_READ_LIMIT = 1000;
export const DEFAULT_READ_LIMIT = 500;
export const MAX_USER_GUILDS_LIMIT = 1000;
export const MAX_DIRECTORY_KEY_LENGTH = 100;

/** Both databases store signed 64-bit integers. */
const MAX_I64 = (1n << 63n) - 1n;

function requireBelow2p63(field: string, value: bigint): bigint {
  if (value > MAX_I64) throw invalidArgument(field, "must be below 2^63");
  return value;
}

/** The range google.protobuf.Timestamp allows: 0001-01-01 to 9999-12-31. */
function isValidTimestamp(ts: Timestamp): boolean {
  return ts.seconds >= -62_135_596_800n && ts.seconds <= 253_402_300_799n && ts.nanos >= 0 && ts.nanos <= 999_999_999;
}

/** Milliseconds (floored, as both databases keep them) of a timestamp. */
function millisOf(ts: Timestamp): number {
  return Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000);
}

function eventInputs(expectedSeq: bigint, events: readonly GuildEventRecord[]): GuildEventInput[] {
  if (events.length < 1 || events.length > MAX_APPEND_EVENTS) {
    throw invalidArgument("events", `1 to ${MAX_APPEND_EVENTS} events per append, got ${events.length}`);
  }
  if (expectedSeq > MAX_I64 - BigInt(events.length)) throw invalidArgument("expected_seq", "the appended seqs must stay below 2^63");
  let total = 0;
  return events.map((event, i) => {
    const field = `events[${i}]`;
    const seq = expectedSeq + BigInt(i + 1);
    if (event.seq !== 0n && event.seq !== seq) throw invalidArgument(`${field}.seq`, `must be 0 or ${seq} (expected_seq + ${i + 1}), got ${event.seq}`);
    if (event.type.length === 0) throw invalidArgument(`${field}.type`, "required (the event name)");
    if (event.type.length > MAX_TYPE_LENGTH) throw invalidArgument(`${field}.type`, `at most ${MAX_TYPE_LENGTH} characters`);
    if (event.payload.length > MAX_EVENT_PAYLOAD_BYTES) {
      throw invalidArgument(`${field}.payload`, `at most ${MAX_EVENT_PAYLOAD_BYTES} bytes, got ${event.payload.length}`);
    }
    total += event.payload.length;
    if (total > MAX_APPEND_PAYLOAD_BYTES) throw invalidArgument("events", `at most ${MAX_APPEND_PAYLOAD_BYTES} bytes of payload per append`);
    if (!event.createdAt) throw invalidArgument(`${field}.created_at`, "required");
    if (!isValidTimestamp(event.createdAt)) throw invalidArgument(`${field}.created_at`, "not a valid timestamp (years 1 to 9999)");
    requireBelow2p63(`${field}.actor_id`, event.actorId);
    return { type: event.type, payload: event.payload, createdAtMs: millisOf(event.createdAt), actorId: event.actorId };
  });
}

function limitOf(limit: number, max: number, defaultLimit: number): number {
  if (limit > max) throw invalidArgument("limit", `1 to ${max} (0 means ${defaultLimit}), got ${limit}`);
  return limit === 0 ? defaultLimit : limit;
}

/** A directory kind the contract defines (enums are open: any number can arrive). */
function requireDirectoryKind(kind: DirectoryKind): DirectoryKind {
  if (kind !== DirectoryKind.CHANNEL && kind !== DirectoryKind.INVITE && kind !== DirectoryKind.DM) {
    throw invalidArgument("kind", `must be CHANNEL, INVITE or DM, got ${kind}`);
  }
  return kind;
}

function requireDirectoryKey(key: string): string {
  if (key.length === 0) throw invalidArgument("key", "required");
  if (key.length > MAX_DIRECTORY_KEY_LENGTH) throw invalidArgument("key", `at most ${MAX_DIRECTORY_KEY_LENGTH} characters, got ${key.length}`);
  return key;
}

function eventRecord(event: GuildEvent): GuildEventRecord {
  return create(GuildEventRecordSchema, {
    seq: event.seq,
    payload: event.payload,
    type: event.type,
    createdAt: timestampFromMs(event.createdAtMs),
    actorId: event.actorId,
  });
}

/**
 * chorus.storage.v1.GuildStorageService on top of a GuildStore: validation that names the bad
 * field, ABORTED when the log moved past expected_seq (fencing), FAILED_PRECONDITION when
 * expected_seq is beyond its end, NOT_FOUND for a missing snapshot or directory entry,
 * UNAVAILABLE when the database cannot be reached.
 */
export function createGuildHandlers(store: GuildStore): ServiceImpl<typeof GuildStorageService> {
  return {
    async appendGuildEvents(req) {
      const guildId = requireId("guild_id", req.guildId);
      const expectedSeq = requireBelow2p63("expected_seq", req.expectedSeq);
      const events = eventInputs(expectedSeq, req.events);
      return { lastSeq: await guarded(() => store.append(guildId, expectedSeq, events)) };
    },

    async readGuildEvents(req) {
      const guildId = requireId("guild_id", req.guildId);
      const afterSeq = requireBelow2p63("after_seq", req.afterSeq);
      const limit = limitOf(req.limit, MAX_READ_LIMIT, DEFAULT_READ_LIMIT);
      const page = await guarded(() => store.read(guildId, afterSeq, limit));
      return { events: page.events.map(eventRecord), more: page.more };
    },

    async getGuildHead(req) {
      const guildId = requireId("guild_id", req.guildId);
      return { lastSeq: await guarded(() => store.head(guildId)) };
    },

    async putGuildSnapshot(req) {
      const guildId = requireId("guild_id", req.guildId);
      const seq = requireBelow2p63("seq", req.seq);
      if (req.state.length > MAX_SNAPSHOT_BYTES) throw invalidArgument("state", `at most ${MAX_SNAPSHOT_BYTES} bytes, got ${req.state.length}`);
      return await guarded(() => store.putSnapshot(guildId, seq, req.state));
    },

    async getGuildSnapshot(req) {
      const guildId = requireId("guild_id", req.guildId);
      const snapshot = await guarded(() => store.getSnapshot(guildId));
      if (!snapshot) throw new ConnectError(`guild ${guildId} has no snapshot`, Code.NotFound);
      return {
        snapshot: create(GuildSnapshotSchema, { seq: snapshot.seq, state: snapshot.state, updatedAt: timestampFromMs(snapshot.updatedAtMs) }),
      };
    },

    async addUserGuild(req) {
      const userId = requireId("user_id", req.userId);
      const guildId = requireId("guild_id", req.guildId);
      await guarded(() => store.addUserGuild(userId, guildId));
      return {};
    },

    async removeUserGuild(req) {
      const userId = requireId("user_id", req.userId);
      const guildId = requireId("guild_id", req.guildId);
      await guarded(() => store.removeUserGuild(userId, guildId));
      return {};
    },

    async listUserGuilds(req) {
      const userId = requireId("user_id", req.userId);
      const afterGuildId = requireBelow2p63("after_guild_id", req.afterGuildId);
      const limit = limitOf(req.limit, MAX_USER_GUILDS_LIMIT, MAX_USER_GUILDS_LIMIT);
      return { guildIds: await guarded(() => store.listUserGuilds(userId, afterGuildId, limit)) };
    },

    async claimDirectoryEntry(req) {
      const kind = requireDirectoryKind(req.kind);
      const key = requireDirectoryKey(req.key);
      const ownerId = requireId("owner_id", req.ownerId);
      return await guarded(() => store.claimDirectoryEntry(kind, key, ownerId));
    },

    async getDirectoryEntry(req) {
      const kind = requireDirectoryKind(req.kind);
      const key = requireDirectoryKey(req.key);
      const ownerId = await guarded(() => store.getDirectoryEntry(kind, key));
      if (ownerId === undefined) throw new ConnectError(`${DirectoryKind[kind]} key "${key}" has no directory entry`, Code.NotFound);
      return { ownerId };
    },

    async releaseDirectoryEntry(req) {
      const kind = requireDirectoryKind(req.kind);
      const key = requireDirectoryKey(req.key);
      const ownerId = requireId("owner_id", req.ownerId);
      return { released: await guarded(() => store.releaseDirectoryEntry(kind, key, ownerId)) };
    },
  };
}
