// What relays import (`@chorus/session-directory`): the user → sessions
// lookup, on Redis (cluster mode) and in the process (embedded mode).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { requireRedis, testNamespace } from "@chorus/testing";
import { MemorySessionStore } from "../src/memory-session-store.js";
import { RedisSessionStore } from "../src/redis-session-store.js";
import { gatewayKeyPrefix, openRedis, openSessionDirectory } from "@chorus/session-directory";
import type { SessionStore } from "../src/session-store.js";

const session = (sessionId: string, userId: bigint) => ({
  sessionId,
  userId,
  intents: 1,
  content: true,
  bot: false,
  guildIds: [],
  ready: { deliveryId: `${sessionId}:ready`, data: Buffer.from("{}") },
});

async function checkDirectory(store: SessionStore, directory: Awaited<ReturnType<typeof openSessionDirectory>>) {
  await store.create(session("s1", 1n));
  await store.create(session("s2", 1n));
  await store.create(session("s3", 2n));
  const found = await directory.lookup([1n, 2n, 3n, 1n]);
  assert.deepEqual(
    found.map((s) => [s.userId, s.sessionId, s.gatewayInstanceId]).sort(),
    [
      [1n, "s1", "gw-1"],
      [1n, "s2", "gw-1"],
      [2n, "s3", "gw-1"],
    ],
  );
  assert.ok(await store.detach("s2", 1, Date.now()));
  assert.deepEqual((await directory.lookup([1n])).map((s) => [s.sessionId, s.gatewayInstanceId]).sort(), [["s1", "gw-1"], ["s2", ""]]);
  await store.sweep(Date.now(), Date.now());
  assert.deepEqual((await directory.lookup([1n])).map((s) => s.sessionId), ["s1"]);
  assert.deepEqual(await directory.lookup([]), []);
}

describe("session directory", () => {
  it("embedded mode: the in-process directory of the gateway in this process", async () => {
    const namespace = testNamespace();
    const store = new MemorySessionStore({ prefix: gatewayKeyPrefix(namespace), instanceId: "gw-1", bufferSize: 10, ttlSeconds: 60 });
    await store.markAlive(60);
    const directory = await openSessionDirectory({ namespace });
    await checkDirectory(store, directory);
    await directory.close();
  });

  it("cluster mode: Redis", async () => {
    const redisUrl = await requireRedis();
    const namespace = testNamespace();
    const redis = openRedis(redisUrl);
    const store = new RedisSessionStore(redis, { prefix: gatewayKeyPrefix(namespace), namespace, instanceId: "gw-1", bufferSize: 10, ttlSeconds: 60 });
    await store.markAlive(60);
    const directory = await openSessionDirectory({ redisUrl, namespace, onError: () => {} });
    try {
      await checkDirectory(store, directory);
      // A listed session whose keys are gone (its gateway died and it expired) is dropped and cleaned.
      await redis.hset(`${gatewayKeyPrefix(namespace)}u:9`, "ghost", "gw-x");
      assert.deepEqual(await directory.lookup([9n]), []);
      assert.equal(await redis.exists(`${gatewayKeyPrefix(namespace)}u:9`), 0);
    } finally {
      await directory.close();
      redis.disconnect();
    }
  });
});
