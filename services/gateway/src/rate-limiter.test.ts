import { test } from "node:test";
import assert from "node:assert/strict";
import { SendRateLimiter } from "./rate-limiter.js";

test("at most `limit` payloads in any window", () => {
  let now = 0;
  const limiter = new SendRateLimiter(3, 60_000, () => now);
  assert.ok(limiter.take());
  now = 10_000;
  assert.ok(limiter.take());
  assert.ok(limiter.take());
  assert.ok(!limiter.take(), "a 4th within 60 s of the 1st");
  now = 59_999;
  assert.ok(!limiter.take());
  now = 60_000;
  assert.ok(limiter.take(), "the 1st left the window");
  assert.ok(!limiter.take(), "the 2nd and 3rd are still in it");
  now = 70_000;
  assert.ok(limiter.take());
  assert.ok(limiter.take());
  assert.ok(!limiter.take());
});

test("Discord's 120 per 60 s", () => {
  let now = 0;
  const limiter = new SendRateLimiter(120, 60_000, () => now);
  for (let i = 0; i < 120; i++) assert.ok(limiter.take(), `payload ${i + 1}`);
  assert.ok(!limiter.take());
  now = 60_000;
  assert.ok(limiter.take());
});
