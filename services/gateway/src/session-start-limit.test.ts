import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemorySessionStartCounter, SESSION_START_WINDOW_MS, sessionStartLimit } from "./session-start-limit.js";

describe("sessionStartLimit", () => {
  it("is the whole allowance with no window open, else what is left of it (never below 0)", () => {
    assert.deepEqual(sessionStartLimit(1000, 0, -2), { total: 1000, remaining: 1000, resetAfterMs: 0, maxConcurrency: 1 });
    assert.deepEqual(sessionStartLimit(1000, 3, 5000), { total: 1000, remaining: 997, resetAfterMs: 5000, maxConcurrency: 1 });
    assert.deepEqual(sessionStartLimit(2, 5, 10).remaining, 0);
    // A count whose window ended (TTL gone) counts nothing.
    assert.deepEqual(sessionStartLimit(2, 2, 0).remaining, 2);
  });
});

describe("MemorySessionStartCounter", () => {
  it("counts per user within a window opened by the first start, refuses past total, and resets when it ends", async () => {
    let now = 1_000_000;
    const counter = new MemorySessionStartCounter({ total: 2, windowMs: 10_000 }, () => now);
    assert.deepEqual(await counter.peek(1n), { total: 2, remaining: 2, resetAfterMs: 0, maxConcurrency: 1 });
    const first = await counter.take(1n);
    assert.deepEqual(first, { allowed: true, limit: { total: 2, remaining: 1, resetAfterMs: 10_000, maxConcurrency: 1 } });
    now += 4000;
    assert.deepEqual((await counter.take(1n)).limit, { total: 2, remaining: 0, resetAfterMs: 6000, maxConcurrency: 1 });
    const refused = await counter.take(1n);
    assert.equal(refused.allowed, false);
    assert.deepEqual(refused.limit.remaining, 0);
    assert.deepEqual(await counter.peek(1n), { total: 2, remaining: 0, resetAfterMs: 6000, maxConcurrency: 1 });
    // Another user has its own allowance.
    assert.equal((await counter.take(2n)).limit.remaining, 1);
    // The window ends 10 s after the first start.
    now += 6000;
    assert.deepEqual(await counter.peek(1n), { total: 2, remaining: 2, resetAfterMs: 0, maxConcurrency: 1 });
    assert.deepEqual(await counter.take(1n), { allowed: true, limit: { total: 2, remaining: 1, resetAfterMs: 10_000, maxConcurrency: 1 } });
  });

  it("defaults to Discord's 24 h window", async () => {
    const counter = new MemorySessionStartCounter({ total: 1000 }, () => 0);
    assert.equal((await counter.take(1n)).limit.resetAfterMs, SESSION_START_WINDOW_MS);
  });
});
