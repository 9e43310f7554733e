// The cluster mode's session start counter (a Lua step on a real Redis): counts per bot user,
// refuses past the total, shared by every node (two counters on one namespace), resets.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { requireRedis, testNamespace, waitFor } from "@chorus/testing";
import { RedisSessionStartCounter } from "../src/session-start-limit.js";
import { gatewayKeyPrefix, openRedis } from "@chorus/session-directory";

describe("RedisSessionStartCounter", () => {
  const clients: Redis[] = [];
  let url = "";
  const counter = (prefix: string, total: number, windowMs?: number) => {
    const redis = openRedis(url);
    clients.push(redis);
    return new RedisSessionStartCounter(redis, prefix, { total, windowMs });
  };
  before(async () => {
    url = await requireRedis();
  });
  after(() => {
    for (const c of clients) c.disconnect();
  });

  it("counts each user's starts across nodes, refuses past the total without counting, and peeks without counting", async () => {
    const prefix = gatewayKeyPrefix(testNamespace());
    const [nodeA, nodeB] = [counter(prefix, 3), counter(prefix, 3)];
    assert.deepEqual(await nodeA.peek(1n), { total: 3, remaining: 3, resetAfterMs: 0, maxConcurrency: 1 });
    const remaining: number[] = [];
    for (const node of [nodeA, nodeB, nodeA]) {
      const outcome = await node.take(1n);
      assert.equal(outcome.allowed, true);
      remaining.push(outcome.limit.remaining);
    }
    assert.deepEqual(remaining, [2, 1, 0]);
    const refused = await nodeB.take(1n);
    assert.equal(refused.allowed, false);
    assert.equal(refused.limit.remaining, 0);
    const peeked = await nodeB.peek(1n);
    assert.equal(peeked.remaining, 0);
    assert.ok(peeked.resetAfterMs > 0 && peeked.resetAfterMs <= 24 * 60 * 60 * 1000, `reset_after ${peeked.resetAfterMs} within the 24 h window`);
    // Refusals are not counted: the key still says 3.
    assert.equal(await clients[0].get(`${prefix}starts:1`), "3");
    assert.equal((await nodeA.take(2n)).limit.remaining, 2, "another user has its own allowance");
  });

  it("the window ends with the key: the whole allowance is back", async () => {
    const prefix = gatewayKeyPrefix(testNamespace());
    const node = counter(prefix, 1, 300);
    assert.equal((await node.take(5n)).allowed, true);
    assert.equal((await node.take(5n)).allowed, false);
    await waitFor("the window to end", async () => (await node.peek(5n)).remaining === 1);
    assert.deepEqual(await node.peek(5n), { total: 1, remaining: 1, resetAfterMs: 0, maxConcurrency: 1 });
    assert.equal((await node.take(5n)).allowed, true);
  });
});
