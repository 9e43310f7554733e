// The storage contract, end to end, against any MessageStore: the real handlers served through
// an in-memory Connect router (same serialization as the wire) and called with the generated
// client. Both backends run this suite (sqlite-store.test.ts; Cassandra's integration test), which
// is what "identical semantics" means. Every test uses fresh random channel ids, so the suite
// also runs on a shared Cassandra keyspace.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { MessageSchema, ReactionSchema, type Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { NodeInfoSchema } from "@chorus/contracts/chorus/mesh/v1/node_pb";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import { SnowflakeGenerator, snowflakeFromTimestamp } from "@chorus/snowflake";
import { bucketOf } from "../src/buckets.js";
import type { MessageStore, QueryHook } from "../src/message-store.js";
import { createStorageHandlers } from "../src/storage-handlers.js";
import { StorageCounters } from "../src/storage-metrics.js";

type StorageClient = Client<typeof StorageService>;

const DAY_MS = 24 * 60 * 60 * 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const randomBits = (bits: number) => BigInt(Math.floor(Math.random() * 2 ** bits));
const ids = (messages: readonly Message[]) => messages.map((m) => m.id);

/** The lowest 22 bits random: ids made from a timestamp stay unique across runs on a shared keyspace. */
const idAt = (ms: number) => snowflakeFromTimestamp(ms) | randomBits(22);

interface Served {
  client: StorageClient;
  counters: StorageCounters;
}

/** The real handlers over `store`, served through the in-memory Connect router. */
function serve(store: MessageStore, counters: StorageCounters): Served {
  const handlers = createStorageHandlers(
    store,
    () => create(NodeInfoSchema, { service: "storage", instanceId: "storage-conformance", address: "in-memory", version: "test" }),
    counters,
  );
  const transport = createRouterTransport((router) => {
    router.service(StorageService, handlers);
  });
  return { client: createClient(StorageService, transport), counters };
}

/** Asserts a call fails with `code`, and (for INVALID_ARGUMENT) that the message starts by naming `field`. */
export async function rejectsWith(call: Promise<unknown>, code: Code, field?: string): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${Code[code]}, got ${Code[err.code]}: ${err.rawMessage}`);
    if (field !== undefined) {
      assert.ok(err.rawMessage.startsWith(`${field}:`), `the error should name "${field}": ${err.rawMessage}`);
    }
    return true;
  });
}

/** Resolves with `promise`, or fails the test after `ms` (instead of hanging until the runner's timeout). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A store whose next call of one method runs its query at once but holds the result until
 * released, so a test can keep an (old) read in flight deterministically.
 */
function holdingProxy(inner: MessageStore) {
  let held: { method: string; started: () => void; release: Promise<void> } | undefined;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const hold = held && held.method === property ? held : undefined;
        if (hold) held = undefined;
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (hold) {
          hold.started();
          await hold.release;
        }
        return result;
      };
    },
  });
  return {
    store,
    /** Holds the next call of `method`; `ran` resolves once its query ran, `release()` lets it return. */
    hold(method: keyof MessageStore) {
      let release!: () => void;
      let started!: () => void;
      const ran = new Promise<void>((resolve) => (started = resolve));
      held = { method, started, release: new Promise<void>((resolve) => (release = resolve)) };
      return { ran, release: () => release() };
    },
  };
}

/**
 * Registers the storage contract suite for one backend.
 *
 * @param makeStore returns a fresh, OPEN store that reports its queries to `onQuery`.
 * @param cleanup   runs after the store is closed (e.g. removes a database file).
 */
export function describeStorageConformance(
  name: string,
  makeStore: (onQuery: QueryHook) => Promise<MessageStore>,
  cleanup?: () => Promise<void> | void,
): void {
  describe(`storage contract (${name})`, () => {
    let store: MessageStore;
    let counters: StorageCounters;
    let storage: StorageClient;
    /** Database queries the store reported, by operation. */
    const queriesByOperation = new Map<string, number>();
    const generator = new SnowflakeGenerator({ workerId: Math.floor(Math.random() * 32), processId: Math.floor(Math.random() * 32) });
    const snowflake = () => generator.next();
    const author = snowflake();

    before(async () => {
      // The hook is bound late: the counters need the store's backend name.
      let hook: QueryHook = () => {};
      store = await makeStore((operation) => hook(operation));
      counters = new StorageCounters(store.backend);
      hook = (operation) => {
        counters.onQuery(operation);
        queriesByOperation.set(operation, (queriesByOperation.get(operation) ?? 0) + 1);
      };
      storage = serve(store, counters).client;
    });

    after(async () => {
      await store?.close();
      await cleanup?.();
    });

    const message = (channelId: bigint, init: Exclude<MessageInitShape<typeof MessageSchema>, Message> = {}) =>
      create(MessageSchema, { id: snowflake(), channelId, authorId: author, content: "hello", ...init });

    async function insert(...messages: Message[]): Promise<Message[]> {
      for (const m of messages) {
        const res = await storage.insertMessage({ message: m });
        assert.deepEqual(res.message, m, "InsertMessage returns the message");
      }
      return messages;
    }

    /** `count` messages in a fresh channel, oldest first, with an unused id between each two. */
    async function channelWith(count: number): Promise<{ channelId: bigint; messages: Message[] }> {
      const channelId = snowflake();
      const gapped = () => {
        snowflake(); // skipped: `id + 1n` is never a message
        return snowflake();
      };
      const messages = Array.from({ length: count }, (_, i) => message(channelId, { id: gapped(), content: `message ${i}` }));
      await Promise.all(messages.map((m) => storage.insertMessage({ message: m })));
      return { channelId, messages };
    }

    const get = async (channelId: bigint, messageId: bigint) => (await storage.getMessage({ channelId, messageId })).message;
    const history = async (req: Parameters<StorageClient["listMessages"]>[0]) => (await storage.listMessages(req)).messages;
    const pins = async (channelId: bigint) => (await storage.listPinnedMessages({ channelId })).messages;

    function fullMessage(channelId: bigint): Message {
      return create(MessageSchema, {
        id: snowflake(),
        channelId,
        guildId: snowflake(),
        authorId: author,
        content: "hello **world** ✨ <@123> — multi\nline",
        type: 19,
        flags: 4 | 4096,
        editedTimestamp: timestampFromDate(new Date(Date.UTC(2024, 4, 1, 12, 30, 45, 678))),
        tts: true,
        mentionEveryone: true,
        mentions: [snowflake(), snowflake()],
        mentionRoles: [snowflake()],
        pinned: true,
        attachments: [
          {
            id: snowflake(),
            filename: "photo.png",
            contentType: "image/png",
            size: 5_000_000_000n,
            url: "https://cdn.example/attachments/1/photo.png",
            proxyUrl: "https://media.example/attachments/1/photo.png",
            width: 1920,
            height: 1080,
            description: "a photo",
            ephemeral: true,
          },
          { id: snowflake(), filename: "notes.txt", size: 3n, url: "https://cdn.example/notes.txt" },
        ],
        embeds: [
          {
            title: "Embed",
            description: "with nested JSON",
            color: 0x5865f2,
            fields: [
              { name: "a", value: "1", inline: true },
              { name: "b", value: "2", inline: false },
            ],
            footer: { text: "footer", icon_url: "https://cdn.example/i.png" },
            image: { url: "https://cdn.example/big.png", width: 800.5, height: 600 },
            provider: null,
          },
          { type: "rich", title: "second" },
        ],
        components: [
          {
            type: 1,
            components: [
              { type: 2, style: 1, label: "Click", custom_id: "btn:1", disabled: false, emoji: { name: "🔥", animated: false } },
              {
                type: 3,
                custom_id: "select",
                options: [
                  { label: "One", value: "1", default: true },
                  { label: "Two", value: "2", description: "second option" },
                ],
                min_values: 1,
                max_values: 2,
              },
            ],
          },
        ],
        messageReference: { type: 1, messageId: snowflake(), channelId: snowflake(), guildId: snowflake(), failIfNotExists: true },
        webhookId: snowflake(),
        applicationId: snowflake(),
        interactionMetadata: {
          id: "1234567890123456789",
          type: 2,
          name: "ping",
          user: { id: "42", username: "someone", global_name: null },
          authorizing_integration_owners: { "0": "111", "1": "222" },
        },
        nonce: "nonce-7d1f",
        authorUsernameOverride: "Hooky",
        authorAvatarOverride: "https://cdn.example/avatars/hooky.png",
      });
    }

    describe("insert and get", () => {
      it("round-trips a message with every field set", async () => {
        const channelId = snowflake();
        const full = fullMessage(channelId);
        await insert(full);
        assert.deepEqual(await get(channelId, full.id), full);
        // The same message in history and, as it is pinned, in the pin list.
        assert.deepEqual(await history({ channelId }), [full]);
        assert.deepEqual(await pins(channelId), [full]);
      });

      it("round-trips a minimal message, leaving optional fields unset", async () => {
        const channelId = snowflake();
        const minimal = create(MessageSchema, { id: snowflake(), channelId, authorId: author });
        await insert(minimal);
        const got = await get(channelId, minimal.id);
        assert.deepEqual(got, minimal);
        assert.equal(got?.editedTimestamp, undefined);
        assert.equal(got?.messageReference, undefined);
        assert.equal(got?.interactionMetadata, undefined);
        assert.deepEqual(got?.embeds, []);
        assert.deepEqual(got?.components, []);
        assert.deepEqual(got?.attachments, []);
        assert.deepEqual(await pins(channelId), []);
      });

      it("keeps present-but-empty nested messages and objects present", async () => {
        const channelId = snowflake();
        const m = message(channelId, {
          messageReference: {},
          interactionMetadata: {},
          embeds: [{}],
          components: [{ type: 1, components: [] }],
          attachments: [{}],
        });
        await insert(m);
        const got = await get(channelId, m.id);
        assert.deepEqual(got, m);
        assert.notEqual(got?.messageReference, undefined);
        assert.deepEqual(got?.interactionMetadata, {});
      });

      it("replaces the previous version when the same id is inserted again", async () => {
        const channelId = snowflake();
        const first = message(channelId, { content: "v1", embeds: [{ title: "old" }] });
        await insert(first);
        const second = create(MessageSchema, { ...first, content: "v2", embeds: [] });
        await insert(second);
        assert.deepEqual(await get(channelId, first.id), second);
        assert.deepEqual(ids(await history({ channelId })), [first.id], "no duplicate in history");
      });

      it("answers NOT_FOUND for a missing message, and for a message of another channel", async () => {
        const channelId = snowflake();
        await rejectsWith(storage.getMessage({ channelId, messageId: snowflake() }), Code.NotFound);
        const other = snowflake();
        const [m] = await insert(message(other));
        await rejectsWith(storage.getMessage({ channelId, messageId: m.id }), Code.NotFound);
      });

      it("validates ids, naming the field", async () => {
        const channelId = snowflake();
        await rejectsWith(storage.insertMessage({}), Code.InvalidArgument, "message");
        await rejectsWith(storage.insertMessage({ message: { id: snowflake(), channelId } }), Code.InvalidArgument, "message.author_id");
        await rejectsWith(storage.insertMessage({ message: { channelId, authorId: author } }), Code.InvalidArgument, "message.id");
        await rejectsWith(storage.insertMessage({ message: { id: snowflake(), authorId: author } }), Code.InvalidArgument, "message.channel_id");
        // A message older than its channel cannot exist (snowflake order).
        const older = snowflake();
        await rejectsWith(storage.insertMessage({ message: { id: older, channelId: snowflake(), authorId: author } }), Code.InvalidArgument, "message.id");
        await rejectsWith(storage.getMessage({ channelId: 0n, messageId: snowflake() }), Code.InvalidArgument, "channel_id");
        await rejectsWith(storage.getMessage({ channelId, messageId: 0n }), Code.InvalidArgument, "message_id");
        await rejectsWith(storage.listMessages({ channelId: 0n }), Code.InvalidArgument, "channel_id");
        await rejectsWith(storage.listPinnedMessages({ channelId: 0n }), Code.InvalidArgument, "channel_id");
        await rejectsWith(storage.deleteMessage({ channelId: 0n, messageId: snowflake() }), Code.InvalidArgument, "channel_id");
        await rejectsWith(storage.bulkDeleteMessages({ channelId: 0n, messageIds: [snowflake()] }), Code.InvalidArgument, "channel_id");
        await rejectsWith(
          storage.updateMessage({ channelId: 0n, messageId: snowflake(), message: {}, updateMask: { paths: ["content"] } }),
          Code.InvalidArgument,
          "channel_id",
        );
        await rejectsWith(storage.listMessages({ channelId, anchor: { case: "before", value: 0n } }), Code.InvalidArgument, "before");
        // Nothing was stored by the rejected calls.
        assert.deepEqual(await history({ channelId }), []);
      });

      it("reports its backend in GetStatus", async () => {
        const status = await storage.getStatus({});
        assert.equal(status.backend, store.backend);
        assert.equal(status.node?.service, "storage");
      });
    });

    describe("update", () => {
      it("changes the fields named in update_mask, returns the merged message and persists it", async () => {
        const channelId = snowflake();
        const original = fullMessage(channelId);
        await insert(original);
        const edited = timestampFromDate(new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6)));
        const res = await storage.updateMessage({
          channelId,
          messageId: original.id,
          message: {
            content: "edited",
            embeds: [{ title: "new", nested: { deep: [1, "two", { three: true }] } }],
            components: [],
            flags: 4,
            editedTimestamp: edited,
            // Not in the mask: must not change.
            authorId: snowflake(),
            nonce: "ignored",
            mentions: [],
          },
          updateMask: { paths: ["content", "embeds", "components", "flags", "edited_timestamp"] },
        });
        const expected = create(MessageSchema, {
          ...original,
          content: "edited",
          embeds: [{ title: "new", nested: { deep: [1, "two", { three: true }] } }],
          components: [],
          flags: 4,
          editedTimestamp: edited,
        });
        assert.deepEqual(res.message, expected);
        assert.deepEqual(await get(channelId, original.id), expected);
        assert.deepEqual(await history({ channelId }), [expected]);
      });

      it("updates attachments, and clears edited_timestamp when the mask names it without a value", async () => {
        const channelId = snowflake();
        const original = message(channelId, { editedTimestamp: timestampFromDate(new Date(Date.UTC(2024, 1, 1))), attachments: [{ id: snowflake(), filename: "a.txt" }] });
        await insert(original);
        const res = await storage.updateMessage({
          channelId,
          messageId: original.id,
          message: { attachments: [] },
          updateMask: { paths: ["attachments", "edited_timestamp"] },
        });
        assert.deepEqual(res.message?.attachments, []);
        assert.equal(res.message?.editedTimestamp, undefined);
        const expected = create(MessageSchema, { ...original, attachments: [] });
        delete expected.editedTimestamp;
        assert.deepEqual(res.message, expected);
        assert.deepEqual(await get(channelId, original.id), expected);
      });

      it("updates the mentions with the content, as an edit re-parses them", async () => {
        const channelId = snowflake();
        const original = message(channelId, { content: "hi <@5>", mentions: [5n], mentionRoles: [7n], mentionEveryone: true });
        await insert(original);
        const res = await storage.updateMessage({
          channelId,
          messageId: original.id,
          message: { content: "hi <@6> <@8>", mentions: [6n, 8n], mentionRoles: [], mentionEveryone: false },
          updateMask: { paths: ["content", "mentions", "mention_roles", "mention_everyone"] },
        });
        const expected = create(MessageSchema, { ...original, content: "hi <@6> <@8>", mentions: [6n, 8n], mentionRoles: [], mentionEveryone: false });
        assert.deepEqual(res.message, expected);
        assert.deepEqual(await get(channelId, original.id), expected);
      });

      it("answers NOT_FOUND for a missing message and does not create it", async () => {
        const channelId = snowflake();
        const missing = snowflake();
        await rejectsWith(
          storage.updateMessage({ channelId, messageId: missing, message: { content: "ghost", pinned: true }, updateMask: { paths: ["content", "pinned"] } }),
          Code.NotFound,
        );
        await rejectsWith(storage.getMessage({ channelId, messageId: missing }), Code.NotFound);
        assert.deepEqual(await history({ channelId }), []);
        assert.deepEqual(await pins(channelId), []);
      });

      it("answers NOT_FOUND for a deleted message and does not bring it back", async () => {
        const channelId = snowflake();
        const [kept, gone] = await insert(message(channelId), message(channelId));
        assert.equal((await storage.deleteMessage({ channelId, messageId: gone.id })).deleted, true);
        await rejectsWith(
          storage.updateMessage({ channelId, messageId: gone.id, message: { content: "resurrected?" }, updateMask: { paths: ["content"] } }),
          Code.NotFound,
        );
        await rejectsWith(storage.getMessage({ channelId, messageId: gone.id }), Code.NotFound);
        assert.deepEqual(ids(await history({ channelId })), [kept.id]);
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "around", value: gone.id } })), [kept.id]);
      });

      it("rejects an invalid update_mask with INVALID_ARGUMENT naming update_mask, changing nothing", async () => {
        const channelId = snowflake();
        const [m] = await insert(message(channelId));
        for (const paths of [["author_id"], ["content", "id"], ["editedTimestamp"], [], ["channel_id"]]) {
          await rejectsWith(
            storage.updateMessage({ channelId, messageId: m.id, message: { content: "x", authorId: 1n, id: 2n, channelId: 3n }, updateMask: { paths } }),
            Code.InvalidArgument,
            "update_mask",
          );
        }
        await rejectsWith(storage.updateMessage({ channelId, messageId: m.id, message: { content: "x" } }), Code.InvalidArgument, "update_mask");
        assert.deepEqual(await get(channelId, m.id), m);
      });
    });

    describe("pins", () => {
      it("lists the most recently pinned first, keeps the first pin time on re-pin, and unpins", async () => {
        const channelId = snowflake();
        const [older, newer, never] = await insert(message(channelId), message(channelId), message(channelId));
        const pin = (id: bigint, pinned: boolean) =>
          storage.updateMessage({ channelId, messageId: id, message: { pinned }, updateMask: { paths: ["pinned"] } });

        // Pinned newest message first, then the older one: pin order differs from id order.
        assert.equal((await pin(newer.id, true)).message?.pinned, true);
        await sleep(15);
        assert.equal((await pin(older.id, true)).message?.pinned, true);
        assert.deepEqual(ids(await pins(channelId)), [older.id, newer.id]);
        const listed = await pins(channelId);
        assert.ok(listed.every((m) => m.pinned), "listed pins are marked pinned");
        assert.equal(listed[0].content, older.content);

        // Pinning an already pinned message is a no-op: it keeps its original pin time.
        await sleep(15);
        await pin(newer.id, true);
        assert.deepEqual(ids(await pins(channelId)), [older.id, newer.id]);

        // Unpinning removes it from the list and clears the flag.
        assert.equal((await pin(older.id, false)).message?.pinned, false);
        assert.deepEqual(ids(await pins(channelId)), [newer.id]);
        assert.equal((await get(channelId, older.id))?.pinned, false);
        assert.equal((await get(channelId, never.id))?.pinned, false);

        // Unpinning a message that is not pinned is harmless.
        await pin(never.id, false);
        assert.deepEqual(ids(await pins(channelId)), [newer.id]);

        // Pinned again later: now the most recent.
        await sleep(15);
        await pin(older.id, true);
        assert.deepEqual(ids(await pins(channelId)), [older.id, newer.id]);
      });

      it("removes the pin when a pinned message is deleted", async () => {
        const channelId = snowflake();
        const [a, b] = await insert(message(channelId, { pinned: true }), message(channelId));
        await storage.updateMessage({ channelId, messageId: b.id, message: { pinned: true }, updateMask: { paths: ["pinned"] } });
        assert.deepEqual(new Set(ids(await pins(channelId))), new Set([a.id, b.id]));
        assert.equal((await storage.deleteMessage({ channelId, messageId: b.id })).deleted, true);
        assert.deepEqual(ids(await pins(channelId)), [a.id]);

        // Nothing of the old pin survives: inserted again later as pinned, b is the newest pin.
        await sleep(15);
        const [c] = await insert(message(channelId, { pinned: true }));
        await sleep(15);
        await insert(create(MessageSchema, { ...b, pinned: true }));
        assert.deepEqual(ids(await pins(channelId)), [b.id, c.id, a.id]);

        assert.deepEqual((await storage.bulkDeleteMessages({ channelId, messageIds: [a.id, b.id, c.id] })).deletedIds, [a.id, b.id, c.id]);
        assert.deepEqual(await pins(channelId), []);
      });

      it("follows the pinned flag of a re-inserted message", async () => {
        const channelId = snowflake();
        const [a] = await insert(message(channelId, { pinned: true }));
        await sleep(15);
        const [b] = await insert(message(channelId, { pinned: true }));
        assert.deepEqual(ids(await pins(channelId)), [b.id, a.id]);
        // Replaced by a version that is not pinned: unpinned.
        await insert(create(MessageSchema, { ...a, pinned: false }));
        assert.deepEqual(ids(await pins(channelId)), [b.id]);
        // Pinned again later: a new pin, the most recent one (no trace of the first pin time).
        await sleep(15);
        await storage.updateMessage({ channelId, messageId: a.id, message: { pinned: true }, updateMask: { paths: ["pinned"] } });
        assert.deepEqual(ids(await pins(channelId)), [a.id, b.id]);
        // Replaced by a version that is still pinned: it keeps its pin time.
        await sleep(15);
        await insert(create(MessageSchema, { ...b, content: "edited", pinned: true }));
        assert.deepEqual(ids(await pins(channelId)), [a.id, b.id]);
      });

      it("keeps pin lists per channel", async () => {
        const [c1, c2] = [snowflake(), snowflake()];
        const [m1] = await insert(message(c1, { pinned: true }));
        const [m2] = await insert(message(c2, { pinned: true }));
        assert.deepEqual(ids(await pins(c1)), [m1.id]);
        assert.deepEqual(ids(await pins(c2)), [m2.id]);
      });
    });

    describe("delete", () => {
      it("returns deleted=true once, then false", async () => {
        const channelId = snowflake();
        const [m, other] = await insert(message(channelId), message(channelId));
        assert.equal((await storage.deleteMessage({ channelId, messageId: m.id })).deleted, true);
        assert.equal((await storage.deleteMessage({ channelId, messageId: m.id })).deleted, false);
        assert.equal((await storage.deleteMessage({ channelId, messageId: snowflake() })).deleted, false);
        await rejectsWith(storage.getMessage({ channelId, messageId: m.id }), Code.NotFound);
        assert.deepEqual(ids(await history({ channelId })), [other.id]);
        // A message of another channel is not deleted through this one.
        const [elsewhere] = await insert(message(snowflake()));
        assert.equal((await storage.deleteMessage({ channelId, messageId: elsewhere.id })).deleted, false);
        assert.deepEqual(await get(elsewhere.channelId, elsewhere.id), elsewhere);
      });

      it("bulk-deletes 1 to 100 distinct ids and returns only those that existed", async () => {
        const { channelId, messages } = await channelWith(5);
        const missing = snowflake();
        const res = await storage.bulkDeleteMessages({ channelId, messageIds: [messages[0].id, missing, messages[3].id] });
        assert.deepEqual([...res.deletedIds].sort(), [messages[0].id, messages[3].id].sort());
        assert.deepEqual(ids(await history({ channelId })), [messages[4].id, messages[2].id, messages[1].id]);
        // Already deleted: nothing to report.
        assert.deepEqual((await storage.bulkDeleteMessages({ channelId, messageIds: [messages[0].id] })).deletedIds, []);
        // 100 ids are allowed.
        const hundred = [messages[1].id, ...Array.from({ length: 99 }, () => snowflake())];
        assert.deepEqual((await storage.bulkDeleteMessages({ channelId, messageIds: hundred })).deletedIds, [messages[1].id]);
        assert.deepEqual(ids(await history({ channelId })), [messages[4].id, messages[2].id]);
      });

      it("rejects 0 ids, 101 ids and repeated ids naming message_ids, deleting nothing", async () => {
        const { channelId, messages } = await channelWith(2);
        await rejectsWith(storage.bulkDeleteMessages({ channelId, messageIds: [] }), Code.InvalidArgument, "message_ids");
        const tooMany = [messages[0].id, ...Array.from({ length: 100 }, () => snowflake())];
        await rejectsWith(storage.bulkDeleteMessages({ channelId, messageIds: tooMany }), Code.InvalidArgument, "message_ids");
        await rejectsWith(
          storage.bulkDeleteMessages({ channelId, messageIds: [messages[0].id, messages[1].id, messages[0].id] }),
          Code.InvalidArgument,
          "message_ids",
        );
        assert.deepEqual(ids(await history({ channelId })), [messages[1].id, messages[0].id]);
      });
    });

    describe("history", () => {
      let channelId: bigint;
      let all: Message[]; // oldest first
      const newestFirst = (from: number, to: number) => all.slice(from, to).reverse().map((m) => m.id);

      before(async () => {
        ({ channelId, messages: all } = await channelWith(60));
      });

      it("returns the latest 50, newest first, by default (limit 0 too)", async () => {
        assert.deepEqual(ids(await history({ channelId })), newestFirst(10, 60));
        assert.deepEqual(ids(await history({ channelId, limit: 0 })), newestFirst(10, 60));
        assert.deepEqual(await history({ channelId, limit: 1 }), [all[59]], "whole messages, not just ids");
      });

      it("takes limit 1 to 100 and rejects 101 naming limit", async () => {
        assert.deepEqual(ids(await history({ channelId, limit: 1 })), newestFirst(59, 60));
        assert.deepEqual(ids(await history({ channelId, limit: 7 })), newestFirst(53, 60));
        assert.deepEqual(ids(await history({ channelId, limit: 100 })), newestFirst(0, 60));
        await rejectsWith(storage.listMessages({ channelId, limit: 101 }), Code.InvalidArgument, "limit");
        await rejectsWith(storage.listMessages({ channelId, limit: 1000, anchor: { case: "after", value: all[0].id } }), Code.InvalidArgument, "limit");
      });

      it("before: older than the anchor (exclusive), newest first", async () => {
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "before", value: all[30].id }, limit: 10 })), newestFirst(20, 30));
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "before", value: all[30].id } })), newestFirst(0, 30));
        assert.deepEqual(await history({ channelId, anchor: { case: "before", value: all[0].id } }), []);
        // An anchor that is not a message: everything older than it.
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "before", value: all[5].id + 1n }, limit: 3 })), newestFirst(3, 6));
      });

      it("after: newer than the anchor (exclusive), oldest first", async () => {
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "after", value: all[30].id }, limit: 10 })), ids(all.slice(31, 41)));
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "after", value: all[30].id } })), ids(all.slice(31)));
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "after", value: 1n }, limit: 5 })), ids(all.slice(0, 5)));
        assert.deepEqual(await history({ channelId, anchor: { case: "after", value: all[59].id } }), []);
      });

      it("around: the anchor with ceil(limit/2) older-or-equal and floor(limit/2) newer, newest first", async () => {
        const around = (i: number, limit?: number) => history({ channelId, anchor: { case: "around", value: all[i].id }, limit });
        assert.deepEqual(ids(await around(30, 10)), newestFirst(26, 36));
        assert.deepEqual(ids(await around(30, 11)), newestFirst(25, 36));
        assert.deepEqual(ids(await around(30, 1)), [all[30].id]);
        assert.deepEqual(ids(await around(30, 2)), newestFirst(30, 32));
        assert.deepEqual(ids(await around(30)), newestFirst(6, 56), "default limit 50: 25 older-or-equal, 25 newer");
        // Near the ends, the other side is not topped up.
        assert.deepEqual(ids(await around(58, 10)), newestFirst(54, 60));
        assert.deepEqual(ids(await around(1, 10)), newestFirst(0, 7));
        // An anchor that is not a message is not included.
        const between = all[30].id + 1n;
        assert.ok(between < all[31].id);
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "around", value: between }, limit: 4 })), newestFirst(29, 33));
      });

      it("never shows messages of another channel", async () => {
        // Interleaved ids in a second channel created at the same time.
        const otherChannel = snowflake();
        const others = [message(otherChannel), message(otherChannel)];
        await insert(...others);
        const mine = await history({ channelId, limit: 100 });
        assert.equal(mine.length, 60);
        assert.ok(mine.every((m) => m.channelId === channelId));
        assert.deepEqual(ids(await history({ channelId: otherChannel })), ids(others).reverse());
        assert.deepEqual(ids(await history({ channelId: otherChannel, anchor: { case: "after", value: all[0].id } })), ids(others));
        await rejectsWith(storage.getMessage({ channelId, messageId: others[0].id }), Code.NotFound);
      });
    });

    describe("history across 10-day buckets", () => {
      it("pages through messages spread over many buckets with empty buckets between", async () => {
        const created = Date.now() - 150 * DAY_MS;
        const channelId = idAt(created);
        // Day offsets: several messages in some buckets, long gaps elsewhere.
        const days = [0.0001, 0.5, 1, 22, 22.5, 23, 24, 52, 53, 95, 96, 96.1, 96.2, 131, 140, 149];
        const all = days.map((d, i) => message(channelId, { id: idAt(created + Math.round(d * DAY_MS)), content: `day ${d} #${i}` }));
        all.sort((a, b) => (a.id < b.id ? -1 : 1));
        const buckets = all.map((m) => bucketOf(m.id));
        const distinct = [...new Set(buckets)];
        assert.ok(distinct.length >= 5, `messages span ${distinct.length} buckets`);
        assert.ok(distinct.some((b, i) => i > 0 && b - distinct[i - 1] > 1), "some buckets between are empty");
        await insert(...all);
        const newest = all.map((m) => m.id).reverse();

        assert.deepEqual(ids(await history({ channelId, limit: 100 })), newest);
        assert.deepEqual(ids(await history({ channelId, limit: 5 })), newest.slice(0, 5));

        // Backwards with `before` until exhausted, pages crossing bucket boundaries.
        for (const limit of [1, 3, 4, 100]) {
          const seen: bigint[] = [];
          let page = await history({ channelId, limit });
          let guard = 0;
          while (page.length > 0) {
            assert.ok(page.length <= limit);
            seen.push(...ids(page));
            page = await history({ channelId, limit, anchor: { case: "before", value: page[page.length - 1].id } });
            assert.ok(++guard <= all.length + 1, "paging must end");
          }
          assert.deepEqual(seen, newest, `paging back by ${limit}`);
        }

        // Forwards with `after`, from before the channel's first message.
        for (const limit of [1, 3, 5]) {
          const seen: bigint[] = [];
          let cursor = channelId - 1n;
          for (let guard = 0; ; guard++) {
            assert.ok(guard <= all.length + 1, "paging must end");
            const page = await history({ channelId, limit, anchor: { case: "after", value: cursor } });
            if (page.length === 0) break;
            seen.push(...ids(page));
            cursor = page[page.length - 1].id;
          }
          assert.deepEqual(seen, ids(all), `paging forward by ${limit}`);
        }

        // Around a message whose neighbours sit in other buckets.
        const i = all.findIndex((m) => m.content.startsWith("day 52 "));
        assert.deepEqual(
          ids(await history({ channelId, anchor: { case: "around", value: all[i].id }, limit: 6 })),
          ids(all.slice(i - 2, i + 4)).reverse(),
        );
      });

      it("reads a channel created buckets before its messages down to its creation, and nothing before", async () => {
        const created = Date.now() - 100 * DAY_MS;
        const channelId = idAt(created);
        // A thread's starter message has the channel's own id; everything else is recent.
        const starter = message(channelId, { id: channelId, content: "starter" });
        const recent = [2, 1.5, 1].map((d) => message(channelId, { id: idAt(Date.now() - d * DAY_MS), content: `${d} days ago` }));
        assert.ok(bucketOf(recent[0].id) - bucketOf(channelId) >= 8, "several empty buckets between");
        await insert(starter, ...recent);
        const newest = [...ids(recent).reverse(), starter.id];
        assert.deepEqual(ids(await history({ channelId })), newest);
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "before", value: recent[0].id } })), [starter.id]);
        assert.deepEqual(await history({ channelId, anchor: { case: "before", value: channelId } }), []);
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "after", value: 1n } })), [starter.id, ...ids(recent)]);
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "after", value: starter.id }, limit: 2 })), ids(recent.slice(0, 2)));
        assert.deepEqual(ids(await history({ channelId, anchor: { case: "around", value: starter.id }, limit: 3 })), [recent[0].id, starter.id]);
      });
    });

    describe("reactions", () => {
      /** Who reacted, in ascending id order, as ListReactionUsers pages expect. */
      const ascending = (users: bigint[]) => [...users].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const react = (channelId: bigint, messageId: bigint, emoji: string, userId: bigint) =>
        storage.addReaction({ channelId, messageId, emoji, userId });
      const unreact = async (channelId: bigint, messageId: bigint, emoji: string, userId: bigint) =>
        (await storage.removeReaction({ channelId, messageId, emoji, userId })).removed;
      const users = async (channelId: bigint, messageId: bigint, emoji: string, page: { after?: bigint; limit?: number } = {}) =>
        (await storage.listReactionUsers({ channelId, messageId, emoji, ...page })).userIds;
      /** A message's reactions as [emoji, count, me] (plain values: comparable across reads). */
      const summary = (m: Message | undefined) => (m?.reactions ?? []).map((r) => [r.emoji, r.count, r.me] as const);
      const reactionsOf = async (channelId: bigint, messageId: bigint, viewerId = 0n) =>
        summary((await storage.getMessage({ channelId, messageId, viewerId })).message);
      const CUSTOM = "party_parrot:1234567890123456789";

      it("adds a reaction once: adding it again changes nothing", async () => {
        const channelId = snowflake();
        const [m] = await insert(message(channelId));
        const user = snowflake();
        const first = await react(channelId, m.id, "👍", user);
        assert.deepEqual([first.added, first.count], [true, 1]);
        const again = await react(channelId, m.id, "👍", user);
        assert.deepEqual([again.added, again.count], [false, 1], "the same reaction again is no change");
        assert.deepEqual(await reactionsOf(channelId, m.id), [["👍", 1, false]]);
        assert.deepEqual(await reactionsOf(channelId, m.id, user), [["👍", 1, true]]);
        assert.deepEqual(await users(channelId, m.id, "👍"), [user]);
        const second = await react(channelId, m.id, "👍", snowflake());
        assert.deepEqual([second.added, second.count], [true, 2]);
      });

      it("counts per emoji in order of first use, sets me for the viewer on every read, and keeps reactions per message", async () => {
        const channelId = snowflake();
        const [m, plain] = await insert(message(channelId, { pinned: true }), message(channelId));
        const [a, b, c, stranger] = [snowflake(), snowflake(), snowflake(), snowflake()];
        await react(channelId, m.id, "❤️", b);
        await react(channelId, m.id, "👍", a);
        await react(channelId, m.id, CUSTOM, c);
        assert.equal((await react(channelId, m.id, "👍", c)).count, 2);
        assert.equal((await react(channelId, m.id, "❤️", a)).count, 2);
        // The same emoji on another message of the channel is counted there.
        assert.equal((await react(channelId, plain.id, "👍", stranger)).count, 1);

        assert.deepEqual(await reactionsOf(channelId, m.id), [["❤️", 2, false], ["👍", 2, false], [CUSTOM, 1, false]]);
        assert.deepEqual(await reactionsOf(channelId, m.id, a), [["❤️", 2, true], ["👍", 2, true], [CUSTOM, 1, false]]);
        assert.deepEqual(await reactionsOf(channelId, m.id, c), [["❤️", 2, false], ["👍", 2, true], [CUSTOM, 1, true]]);
        assert.deepEqual(await reactionsOf(channelId, m.id, stranger), [["❤️", 2, false], ["👍", 2, false], [CUSTOM, 1, false]]);
        assert.deepEqual(await reactionsOf(channelId, plain.id, stranger), [["👍", 1, true]]);

        // History (every anchor) and pins carry the same reactions, me for the viewer.
        const forA = [["❤️", 2, true], ["👍", 2, true], [CUSTOM, 1, false]];
        const pages = [
          await history({ channelId, viewerId: a }),
          await history({ channelId, viewerId: a, anchor: { case: "before", value: plain.id } }),
          await history({ channelId, viewerId: a, anchor: { case: "after", value: channelId } }),
          await history({ channelId, viewerId: a, anchor: { case: "around", value: m.id } }),
          (await storage.listPinnedMessages({ channelId, viewerId: a })).messages,
        ];
        for (const page of pages) {
          assert.deepEqual(summary(page.find((x) => x.id === m.id)), forA);
          const other = page.find((x) => x.id === plain.id);
          if (other) assert.deepEqual(summary(other), [["👍", 1, false]]);
        }
        assert.deepEqual(summary((await history({ channelId })).find((x) => x.id === m.id)), [["❤️", 2, false], ["👍", 2, false], [CUSTOM, 1, false]]);
        assert.deepEqual(summary((await history({ channelId, viewerId: stranger }))[0]), [["👍", 1, true]], "the newest message, for its reactor");

        // An edit keeps the reactions, and its answer carries them.
        const edited = await storage.updateMessage({ channelId, messageId: m.id, message: { content: "edited" }, updateMask: { paths: ["content"] } });
        assert.deepEqual(summary(edited.message), [["❤️", 2, false], ["👍", 2, false], [CUSTOM, 1, false]]);

        // The first user of an emoji leaving does not move it: it keeps its place while anyone reacts with it.
        assert.equal(await unreact(channelId, m.id, "❤️", b), true);
        assert.deepEqual(await reactionsOf(channelId, m.id, a), [["❤️", 1, true], ["👍", 2, true], [CUSTOM, 1, false]]);
        // Once nobody reacts with it, it is gone; used again, it comes last.
        assert.equal(await unreact(channelId, m.id, "❤️", a), true);
        assert.deepEqual(await reactionsOf(channelId, m.id), [["👍", 2, false], [CUSTOM, 1, false]]);
        await react(channelId, m.id, "❤️", b);
        assert.deepEqual(await reactionsOf(channelId, m.id, b), [["👍", 2, false], [CUSTOM, 1, false], ["❤️", 1, true]]);
      });

      it("ignores reactions given to InsertMessage, and keeps the stored ones when a message is inserted again", async () => {
        const channelId = snowflake();
        const m = message(channelId);
        const res = await storage.insertMessage({ message: { ...m, reactions: [create(ReactionSchema, { emoji: "🙃", count: 7, me: true })] } });
        assert.deepEqual(res.message?.reactions, [], "the answer is the message as stored");
        assert.deepEqual(await reactionsOf(channelId, m.id), []);
        const user = snowflake();
        await react(channelId, m.id, "🙃", user);
        await storage.insertMessage({ message: { ...m, content: "replaced", reactions: [create(ReactionSchema, { emoji: "🤖", count: 3 })] } });
        const got = await get(channelId, m.id);
        assert.equal(got?.content, "replaced");
        assert.deepEqual(summary(got), [["🙃", 1, false]]);
      });

      it("lists the users of one emoji in ascending id, paged with after and limit (default 25, at most 100)", async () => {
        const channelId = snowflake();
        const [m] = await insert(message(channelId));
        // Every other id, so that `id + 1n` is never a reactor.
        const fire = Array.from({ length: 30 }, () => {
          snowflake();
          return snowflake();
        }).reverse();
        const party = [snowflake(), fire[3]];
        await Promise.all(fire.map((u) => react(channelId, m.id, "🔥", u)));
        await Promise.all(party.map((u) => react(channelId, m.id, "🎉", u)));
        const sorted = ascending(fire);
        assert.deepEqual(await users(channelId, m.id, "🔥"), sorted.slice(0, 25), "25 by default");
        assert.deepEqual(await users(channelId, m.id, "🔥", { after: sorted[24] }), sorted.slice(25));
        assert.deepEqual(await users(channelId, m.id, "🔥", { limit: 100 }), sorted);
        assert.deepEqual(await users(channelId, m.id, "🔥", { limit: 1 }), [sorted[0]]);
        // Paging by 7 with `after`: every user once, in order.
        const seen: bigint[] = [];
        for (let page = await users(channelId, m.id, "🔥", { limit: 7 }); page.length > 0; page = await users(channelId, m.id, "🔥", { limit: 7, after: seen[seen.length - 1] })) {
          assert.ok(page.length <= 7);
          seen.push(...page);
          assert.ok(seen.length <= 30, "paging must end");
        }
        assert.deepEqual(seen, sorted);
        // `after` need not be a reactor; past the last one, nothing.
        assert.deepEqual(await users(channelId, m.id, "🔥", { after: sorted[9] + 1n, limit: 3 }), sorted.slice(10, 13));
        assert.deepEqual(await users(channelId, m.id, "🔥", { after: sorted[29] }), []);
        assert.deepEqual(await users(channelId, m.id, "🎉"), ascending(party));
        assert.deepEqual(await users(channelId, m.id, "🥶"), []);
        await rejectsWith(storage.listReactionUsers({ channelId, messageId: m.id, emoji: "🔥", limit: 101 }), Code.InvalidArgument, "limit");
      });

      it("removes one user's reaction, every reaction with one emoji, and every reaction", async () => {
        const channelId = snowflake();
        const [m] = await insert(message(channelId));
        const [a, b, c] = [snowflake(), snowflake(), snowflake()];
        for (const u of [a, b, c]) await react(channelId, m.id, "👍", u);
        for (const u of [a, b]) await react(channelId, m.id, "👀", u);
        await react(channelId, m.id, CUSTOM, c);

        assert.equal(await unreact(channelId, m.id, "👍", b), true);
        assert.equal(await unreact(channelId, m.id, "👍", b), false, "already removed");
        assert.equal(await unreact(channelId, m.id, CUSTOM, a), false, "a never reacted with it");
        assert.equal(await unreact(channelId, m.id, "🫥", a), false, "nobody reacted with it");
        assert.deepEqual(await reactionsOf(channelId, m.id, b), [["👍", 2, false], ["👀", 2, true], [CUSTOM, 1, false]]);
        assert.deepEqual(await users(channelId, m.id, "👍"), ascending([a, c]));

        // One emoji: only its reactions go.
        assert.equal((await storage.removeAllReactions({ channelId, messageId: m.id, emoji: "👀" })).removed, 2);
        assert.equal((await storage.removeAllReactions({ channelId, messageId: m.id, emoji: "👀" })).removed, 0);
        assert.deepEqual(await reactionsOf(channelId, m.id), [["👍", 2, false], [CUSTOM, 1, false]]);
        assert.deepEqual(await users(channelId, m.id, "👀"), []);

        // Everything.
        assert.equal((await storage.removeAllReactions({ channelId, messageId: m.id })).removed, 3);
        assert.deepEqual(await reactionsOf(channelId, m.id, a), []);
        assert.deepEqual(await users(channelId, m.id, "👍"), []);
        assert.equal((await storage.removeAllReactions({ channelId, messageId: m.id })).removed, 0);
        // Reacting afterwards starts again from one.
        assert.deepEqual((await react(channelId, m.id, "👍", a)).count, 1);
        assert.deepEqual(await reactionsOf(channelId, m.id, a), [["👍", 1, true]]);
      });

      it("keeps counts right under concurrent adds and removes of different users", async () => {
        const channelId = snowflake();
        const [m] = await insert(message(channelId));
        const first = Array.from({ length: 20 }, () => snowflake());
        const results = await Promise.all(first.map((u) => react(channelId, m.id, "🚀", u)));
        assert.ok(results.every((r) => r.added), "each of 20 users added a reaction");
        assert.ok(results.every((r) => r.count >= 1 && r.count <= 20), `counts seen: ${results.map((r) => r.count)}`);
        assert.ok(results.some((r) => r.count === 20), "the last add saw all 20");
        assert.deepEqual(await reactionsOf(channelId, m.id), [["🚀", 20, false]]);
        assert.deepEqual(await users(channelId, m.id, "🚀", { limit: 100 }), ascending(first));

        // 10 leave while 10 others join and 5 who stay add theirs again: still 20, exactly the right ones.
        const leaving = first.slice(0, 10);
        const staying = first.slice(10);
        const joining = Array.from({ length: 10 }, () => snowflake());
        const [removed, joined, repeated] = await Promise.all([
          Promise.all(leaving.map((u) => unreact(channelId, m.id, "🚀", u))),
          Promise.all(joining.map((u) => react(channelId, m.id, "🚀", u))),
          Promise.all(staying.slice(0, 5).map((u) => react(channelId, m.id, "🚀", u))),
        ]);
        assert.ok(removed.every(Boolean), "every leaving user's reaction was removed");
        assert.ok(joined.every((r) => r.added), "every joining user's reaction was added");
        assert.ok(repeated.every((r) => !r.added), "adding an existing reaction again changes nothing");
        assert.deepEqual(await reactionsOf(channelId, m.id), [["🚀", 20, false]]);
        assert.deepEqual(await users(channelId, m.id, "🚀", { limit: 100 }), ascending([...staying, ...joining]));

        // One user adding the same reaction 10 times at once counts once.
        const eager = snowflake();
        const repeats = await Promise.all(Array.from({ length: 10 }, () => react(channelId, m.id, "🎯", eager)));
        assert.ok(repeats.some((r) => r.added));
        assert.deepEqual(await reactionsOf(channelId, m.id, eager), [["🚀", 20, false], ["🎯", 1, true]]);
      });

      it("answers NOT_FOUND for a missing or deleted message, whose reactions are gone", async () => {
        const channelId = snowflake();
        const user = snowflake();
        const missing = message(channelId);
        const notFound = async (messageId: bigint) => {
          await rejectsWith(react(channelId, messageId, "👍", user), Code.NotFound);
          await rejectsWith(storage.removeReaction({ channelId, messageId, emoji: "👍", userId: user }), Code.NotFound);
          await rejectsWith(storage.removeAllReactions({ channelId, messageId }), Code.NotFound);
          await rejectsWith(storage.removeAllReactions({ channelId, messageId, emoji: "👍" }), Code.NotFound);
          await rejectsWith(storage.listReactionUsers({ channelId, messageId, emoji: "👍" }), Code.NotFound);
        };
        await notFound(missing.id);
        // Nothing was recorded for the missing message: inserted now, it has no reactions.
        await insert(missing);
        assert.deepEqual(await reactionsOf(channelId, missing.id), []);
        assert.deepEqual(await users(channelId, missing.id, "👍"), []);
        // A message of another channel is not found through this one.
        const [elsewhere] = await insert(message(snowflake()));
        await rejectsWith(react(channelId, elsewhere.id, "👍", user), Code.NotFound);

        // Deleted (single and bulk): NOT_FOUND, and inserted again, none of its reactions come back.
        const [single, bulkA, bulkB] = await insert(message(channelId), message(channelId), message(channelId));
        const reactors = [snowflake(), snowflake(), snowflake()];
        for (const m of [single, bulkA, bulkB]) {
          for (const u of reactors) await react(channelId, m.id, "👍", u);
          await react(channelId, m.id, CUSTOM, reactors[0]);
        }
        assert.equal((await storage.deleteMessage({ channelId, messageId: single.id })).deleted, true);
        assert.deepEqual([...(await storage.bulkDeleteMessages({ channelId, messageIds: [bulkA.id, bulkB.id] })).deletedIds].sort(), ascending([bulkA.id, bulkB.id]));
        for (const m of [single, bulkA, bulkB]) {
          await notFound(m.id);
          await insert(m);
          assert.deepEqual(await reactionsOf(channelId, m.id, reactors[0]), [], "no reaction outlives its message");
          assert.deepEqual(await users(channelId, m.id, "👍"), []);
          assert.deepEqual(await users(channelId, m.id, CUSTOM), []);
          assert.deepEqual((await react(channelId, m.id, "👍", user)).count, 1, "counting starts again");
        }
      });

      it("leaves no reaction behind when adds race the deletion of their message", async () => {
        for (let round = 0; round < 3; round++) {
          const channelId = snowflake();
          const [m] = await insert(message(channelId));
          const reactors = Array.from({ length: 20 }, () => snowflake());
          // Adds spread over 40 ms; the delete lands early, midway or late among them.
          const adds = Promise.allSettled(reactors.map((u, i) => sleep(i * 2).then(() => react(channelId, m.id, "🏁", u))));
          await sleep([3, 15, 35][round]);
          await storage.deleteMessage({ channelId, messageId: m.id });
          for (const outcome of await adds) {
            if (outcome.status === "rejected") {
              assert.ok(outcome.reason instanceof ConnectError && outcome.reason.code === Code.NotFound, `an add failed with ${String(outcome.reason)}`);
            }
          }
          await insert(m);
          assert.deepEqual(await users(channelId, m.id, "🏁", { limit: 100 }), [], `round ${round}: no reaction survived the delete`);
          assert.deepEqual(await reactionsOf(channelId, m.id), []);
        }
      });

      it("reads a page's reactions with at most one query per message that has reactions, and two with a viewer", async () => {
        const { channelId, messages } = await channelWith(50);
        const reactionQueries = async (read: () => Promise<unknown>) => {
          const before = queriesByOperation.get("reactions") ?? 0;
          await read();
          return (queriesByOperation.get("reactions") ?? 0) - before;
        };
        const viewer = snowflake();
        // Without any reaction, a page costs at most one reaction query (none on Cassandra).
        assert.ok((await reactionQueries(() => history({ channelId, viewerId: viewer }))) <= 1);
        const reacted = messages.filter((_, i) => i % 5 === 0);
        for (const m of reacted) {
          await react(channelId, m.id, "👍", viewer);
          await react(channelId, m.id, "👎", snowflake());
        }
        let page: Message[] = [];
        const withViewer = await reactionQueries(async () => (page = await history({ channelId, viewerId: viewer })));
        assert.ok(withViewer <= 2 * reacted.length, `${withViewer} reaction queries for ${reacted.length} messages with reactions`);
        assert.equal(page.length, 50);
        for (const m of page) {
          const expected = reacted.some((r) => r.id === m.id) ? [["👍", 1, true], ["👎", 1, false]] : [];
          assert.deepEqual(summary(m), expected);
        }
        const anonymous = await reactionQueries(() => history({ channelId }));
        assert.ok(anonymous <= reacted.length, `${anonymous} reaction queries for ${reacted.length} messages with reactions`);
      });

      it("coalesces reads of different viewers and sets me for each", async () => {
        const proxy = holdingProxy(store);
        const local = serve(proxy.store, new StorageCounters(store.backend));
        const channelId = snowflake();
        const m = message(channelId);
        await local.client.insertMessage({ message: m });
        const [a, b] = [snowflake(), snowflake()];
        await local.client.addReaction({ channelId, messageId: m.id, emoji: "🅰️", userId: a });
        await local.client.addReaction({ channelId, messageId: m.id, emoji: "🅱️", userId: b });

        const held = proxy.hold("listBefore");
        const forA = local.client.listMessages({ channelId, viewerId: a });
        await within(5000, "the held read's query", held.ran);
        const forB = local.client.listMessages({ channelId, viewerId: b });
        try {
          await sleep(20);
          assert.equal(local.counters.coalesced, 1n, "the second viewer's read joined the first");
        } finally {
          held.release();
        }
        assert.deepEqual(summary((await forA).messages[0]), [["🅰️", 1, true], ["🅱️", 1, false]]);
        assert.deepEqual(summary((await forB).messages[0]), [["🅰️", 1, false], ["🅱️", 1, true]]);
      });

      it("a read that starts after an acknowledged reaction sees it while an older identical read is in flight", async () => {
        const proxy = holdingProxy(store);
        const local = serve(proxy.store, new StorageCounters(store.backend));
        const channelId = snowflake();
        const m = message(channelId);
        await local.client.insertMessage({ message: m });
        const held = proxy.hold("get");
        const older = local.client.getMessage({ channelId, messageId: m.id });
        await within(5000, "the held get's query", held.ran);
        const user = snowflake();
        await local.client.addReaction({ channelId, messageId: m.id, emoji: "⚡", userId: user });
        try {
          const fresh = await within(5000, "a get started after the reaction", local.client.getMessage({ channelId, messageId: m.id, viewerId: user }));
          assert.deepEqual(summary(fresh.message), [["⚡", 1, true]]);
        } finally {
          held.release();
        }
        assert.deepEqual(summary((await older).message), []);
      });

      it("validates its input, naming the field, and stores nothing for a rejected call", async () => {
        const channelId = snowflake();
        const [m] = await insert(message(channelId));
        const user = snowflake();
        const tooBig = 1n << 63n;
        const messageId = m.id;
        for (const [field, req] of [
          ["channel_id", { channelId: 0n, messageId, emoji: "👍", userId: user }],
          ["message_id", { channelId, messageId: 0n, emoji: "👍", userId: user }],
          ["emoji", { channelId, messageId, emoji: "", userId: user }],
          ["emoji", { channelId, messageId, emoji: "x".repeat(101), userId: user }],
          ["emoji", { channelId, messageId, emoji: "😀".repeat(101), userId: user }],
          ["emoji", { channelId, messageId, emoji: "bad\nemoji", userId: user }],
          ["user_id", { channelId, messageId, emoji: "👍", userId: 0n }],
          ["user_id", { channelId, messageId, emoji: "👍", userId: tooBig }],
        ] as const) {
          await rejectsWith(storage.addReaction(req), Code.InvalidArgument, field);
          await rejectsWith(storage.removeReaction(req), Code.InvalidArgument, field);
        }
        await rejectsWith(storage.removeAllReactions({ channelId: 0n, messageId }), Code.InvalidArgument, "channel_id");
        await rejectsWith(storage.removeAllReactions({ channelId, messageId: 0n }), Code.InvalidArgument, "message_id");
        await rejectsWith(storage.removeAllReactions({ channelId, messageId, emoji: "" }), Code.InvalidArgument, "emoji");
        await rejectsWith(storage.listReactionUsers({ channelId: 0n, messageId, emoji: "👍" }), Code.InvalidArgument, "channel_id");
        await rejectsWith(storage.listReactionUsers({ channelId, messageId: 0n, emoji: "👍" }), Code.InvalidArgument, "message_id");
        await rejectsWith(storage.listReactionUsers({ channelId, messageId, emoji: "" }), Code.InvalidArgument, "emoji");
        await rejectsWith(storage.listReactionUsers({ channelId, messageId, emoji: "👍", after: tooBig }), Code.InvalidArgument, "after");
        await rejectsWith(storage.listReactionUsers({ channelId, messageId, emoji: "👍", limit: 101 }), Code.InvalidArgument, "limit");
        await rejectsWith(storage.getMessage({ channelId, messageId, viewerId: tooBig }), Code.InvalidArgument, "viewer_id");
        await rejectsWith(storage.listMessages({ channelId, viewerId: tooBig }), Code.InvalidArgument, "viewer_id");
        await rejectsWith(storage.listPinnedMessages({ channelId, viewerId: tooBig }), Code.InvalidArgument, "viewer_id");
        assert.deepEqual(await reactionsOf(channelId, messageId), [], "nothing was stored");

        // At the limits: 100 characters (code points, so 100 astral emoji too), custom and ZWJ emoji.
        const family = "👨‍👩‍👧‍👦";
        for (const emoji of ["x".repeat(100), "😀".repeat(100), family, CUSTOM]) {
          assert.equal((await react(channelId, messageId, emoji, user)).added, true, `${emoji} is accepted`);
          assert.deepEqual(await users(channelId, messageId, emoji), [user]);
        }
        assert.deepEqual(
          (await reactionsOf(channelId, messageId, user)).map(([emoji]) => emoji),
          ["x".repeat(100), "😀".repeat(100), family, CUSTOM],
        );
      });
    });

    describe("coalescing and freshness", () => {
      it("answers 200 concurrent identical reads with far fewer database queries", async () => {
        const { channelId, messages } = await channelWith(60);
        const expected = messages.slice(10).reverse();
        const queriesBefore = counters.queries;
        const coalescedBefore = counters.coalesced;
        const pages = await Promise.all(Array.from({ length: 200 }, () => history({ channelId, limit: 50 })));
        const queries = Number(counters.queries - queriesBefore);
        const coalesced = Number(counters.coalesced - coalescedBefore);
        for (const page of pages) assert.deepEqual(page, expected);
        assert.ok(queries >= 1, "the store reports its queries (onQuery)");
        assert.ok(queries <= 10, `200 identical reads cost ${queries} database queries`);
        assert.ok(coalesced >= 190, `${coalesced} reads were coalesced`);
      });

      it("a read that starts after an acknowledged insert sees it while an older identical read is in flight", async () => {
        const proxy = holdingProxy(store);
        const local = serve(proxy.store, new StorageCounters(store.backend));
        const channelId = snowflake();
        const first = message(channelId, { content: "first" });
        await local.client.insertMessage({ message: first });

        const held = proxy.hold("listBefore");
        const older = local.client.listMessages({ channelId });
        await within(5000, "the held read's query", held.ran);
        // A second identical read before any write joins the one in flight.
        const joined = local.client.listMessages({ channelId });
        await sleep(20);
        assert.equal(local.counters.coalesced, 1n, "an identical read in flight is joined");

        const second = message(channelId, { content: "second" });
        await local.client.insertMessage({ message: second });
        try {
          const fresh = await within(5000, "a read started after the insert", local.client.listMessages({ channelId }));
          assert.deepEqual(ids(fresh.messages), [second.id, first.id]);
        } finally {
          held.release();
        }
        // The reads that began before the insert keep their (older) result.
        assert.deepEqual(ids((await older).messages), [first.id]);
        assert.deepEqual(ids((await joined).messages), [first.id]);
      });

      it("a get that starts after an acknowledged update sees it while an older identical get is in flight", async () => {
        const proxy = holdingProxy(store);
        const local = serve(proxy.store, new StorageCounters(store.backend));
        const channelId = snowflake();
        const m = message(channelId, { content: "before" });
        await local.client.insertMessage({ message: m });

        const held = proxy.hold("get");
        const older = local.client.getMessage({ channelId, messageId: m.id });
        await within(5000, "the held get's query", held.ran);
        await local.client.updateMessage({ channelId, messageId: m.id, message: { content: "after" }, updateMask: { paths: ["content"] } });
        try {
          const fresh = await within(5000, "a get started after the update", local.client.getMessage({ channelId, messageId: m.id }));
          assert.equal(fresh.message?.content, "after");
        } finally {
          held.release();
        }
        assert.equal((await older).message?.content, "before");
      });
    });
  });
}
