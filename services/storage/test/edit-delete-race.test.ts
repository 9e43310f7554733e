// Discord's study: on Cassandra an edit racing a delete can leave a row holding only its key
// and the edited text. This runs many such races against real Cassandra and then reads the
// raw table (bypassing the store's own filtering) to prove every message is whole or gone.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import cassandra from "cassandra-driver";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { cassandraContactPoints } from "@chorus/testing";
import { bucketOf } from "../src/buckets.js";
import type { CassandraMessageStore } from "../src/cassandra-store.js";
import { cassandraStore, TEST_KEYSPACE } from "./cassandra-fixture.js";

const PAIRS = 400;

describe("edit racing delete on Cassandra", () => {
  let store: CassandraMessageStore;
  let raw: cassandra.Client;
  const ids = new SnowflakeGenerator({ workerId: 3, processId: 1 });

  before(async () => {
    store = await cassandraStore();
    raw = new cassandra.Client({
      contactPoints: cassandraContactPoints(),
      localDataCenter: "datacenter1",
      encoding: { useBigIntAsLong: true },
    });
    await raw.connect();
  });

  after(async () => {
    await store.close();
    await raw.shutdown();
  });

  it(`${PAIRS} concurrent edit+delete pairs leave every message whole or gone, never resurrected`, async () => {
    const channelId = ids.next();
    const messages = Array.from({ length: PAIRS }, () =>
      create(MessageSchema, {
        id: ids.next(),
        channelId,
        guildId: 42n,
        authorId: 7n,
        content: "original",
        embeds: [{ title: "kept" }],
        mentions: [7n],
      }),
    );
    await Promise.all(messages.map((m) => store.insert(m)));

    // Fire each edit and delete nearly together, with random offsets either way, so that
    // some edits land while the delete's Paxos round is in flight and others just after it.
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const outcomes = await Promise.all(
      messages.map(async (m, i) => {
        const offset = Math.random() * 12;
        const edit = async () => {
          if (i % 2 === 0) await sleep(offset);
          return store.update(channelId, m.id, { content: `edited ${i}`, editedTimestamp: timestampNow() });
        };
        const remove = async () => {
          if (i % 2 === 1) await sleep(offset);
          return store.delete(channelId, m.id);
        };
        const [edited, deleted] = await Promise.all([edit(), remove()]);
        // `edited` may be undefined even when the edit applied first: its re-read can already
        // see the delete. What matters is checked below on the raw table.
        return { edited, deleted };
      }),
    );
    assert.ok(outcomes.every((o) => o.deleted), "every delete found its message");
    // And edits that arrive after the deletes completed.
    const late = await Promise.all(messages.map((m) => store.update(channelId, m.id, { content: "too late" })));
    assert.ok(late.every((r) => r === undefined), "an edit of a deleted message finds nothing");

    // Raw rows, read without the store's filtering: none may remain, least of all a row
    // holding only its key and the edited text.
    const buckets = [...new Set(messages.map((m) => bucketOf(m.id)))];
    for (const bucket of buckets) {
      const rows = await raw.execute(
        `SELECT message_id, author_id, content FROM ${TEST_KEYSPACE}.messages WHERE channel_id = ? AND bucket = ?`,
        [channelId, bucket],
        { prepare: true },
      );
      assert.deepEqual(
        rows.rows.map((r) => `${r.message_id} author=${r.author_id} content=${r.content}`),
        [],
        "no message row may remain",
      );
    }
    assert.equal((await store.listBefore(channelId, undefined, 100)).length, 0);
  });

  it("edits racing deletes on half of the messages leave the other half whole", async () => {
    const channelId = ids.next();
    const messages = Array.from({ length: PAIRS }, (_, i) =>
      create(MessageSchema, { id: ids.next(), channelId, authorId: 9n, content: `m${i}`, components: [{ type: 1, components: [] }] }),
    );
    await Promise.all(messages.map((m) => store.insert(m)));
    await Promise.all(
      messages.map((m, i) =>
        i % 2 === 0
          ? Promise.all([store.update(channelId, m.id, { content: `e${i}` }), store.delete(channelId, m.id)])
          : store.update(channelId, m.id, { content: `e${i}` }),
      ),
    );
    const listed = await Promise.all(messages.map((m) => store.get(channelId, m.id)));
    listed.forEach((m, i) => {
      if (i % 2 === 0) assert.equal(m, undefined, `message ${i} was deleted`);
      else {
        assert.ok(m, `message ${i} survives`);
        assert.equal(m.content, `e${i}`);
        assert.equal(m.authorId, 9n);
        assert.deepEqual(m.components, [{ type: 1, components: [] }]);
      }
    });
    const raw = await store.listBefore(channelId, undefined, 100);
    assert.ok(raw.every((m) => m.authorId === 9n));
  });
});
