import { test } from "node:test";
import assert from "node:assert/strict";
import { PushSource } from "./push-source.js";

interface Item {
  lane: string;
  priority: number;
  n: number;
}
const item = (n: number, priority: number, lane = "a"): Item => ({ lane, priority, n });

test("a request goes straight to a subscriber with demand, else waits in the buffer", () => {
  const source = new PushSource<Item>({ capacity: 10, priorities: 2 });
  const got: number[] = [];
  const sub = source.subscribe("a", (i) => got.push(i.n));
  sub.ask(1);
  source.offer(item(1, 1));
  assert.deepEqual(got, [1]);
  assert.equal(sub.demand, 0);
  source.offer(item(2, 1));
  assert.equal(source.depth, 1);
  assert.deepEqual(got, [1]);
  sub.ask(5);
  assert.deepEqual(got, [1, 2]);
  assert.equal(sub.demand, 4);
  assert.equal(source.depth, 0);
});

test("buffered requests leave most important first, oldest first within a priority", () => {
  const source = new PushSource<Item>({ capacity: 10, priorities: 3 });
  for (const [n, p] of [[1, 2], [2, 1], [3, 0], [4, 2], [5, 0], [6, 1]]) source.offer(item(n, p));
  const got: number[] = [];
  source.subscribe("a", (i) => got.push(i.n)).ask(10);
  assert.deepEqual(got, [3, 5, 2, 6, 1, 4]);
});

test("a subscriber only gets requests of its lane; subscribers of a lane take turns", () => {
  const source = new PushSource<Item>({ capacity: 10, priorities: 1 });
  const a1: number[] = [];
  const a2: number[] = [];
  const b: number[] = [];
  source.subscribe("a", (i) => a1.push(i.n)).ask(10);
  source.subscribe("a", (i) => a2.push(i.n)).ask(10);
  source.subscribe("b", (i) => b.push(i.n)).ask(10);
  for (let n = 0; n < 6; n++) source.offer(item(n, 0, n % 3 === 2 ? "b" : "a"));
  assert.deepEqual(a1, [0, 3]);
  assert.deepEqual(a2, [1, 4]);
  assert.deepEqual(b, [2, 5]);
});

test("a full buffer sheds the oldest request of the lowest priority present", () => {
  const shed: number[] = [];
  const source = new PushSource<Item>({ capacity: 3, priorities: 2, onShed: (i) => shed.push(i.n) });
  source.offer(item(1, 1));
  source.offer(item(2, 0));
  source.offer(item(3, 1, "b"));
  // Full: a high one evicts the oldest low one (lane a), another the next (lane b).
  assert.equal(source.offer(item(4, 0)), true);
  assert.deepEqual(shed, [1]);
  assert.equal(source.offer(item(5, 0)), true);
  assert.deepEqual(shed, [1, 3]);
  // Only high ones left: a low one is less important than all of them and is shed itself.
  assert.equal(source.offer(item(6, 1)), false);
  assert.deepEqual(shed, [1, 3, 6]);
  // A high one with nothing else buffered sheds the oldest high one.
  assert.equal(source.offer(item(7, 0)), true);
  assert.deepEqual(shed, [1, 3, 6, 2]);
  assert.equal(source.depth, 3);
  assert.deepEqual(source.shedByPriority(), [1, 3]);
  const got: number[] = [];
  source.subscribe("a", (i) => got.push(i.n)).ask(10);
  assert.deepEqual(got, [4, 5, 7]);
});

test("a burst of 100,000 into a 10,000 buffer keeps it at 10,000 and every high-priority request", () => {
  const source = new PushSource<Item>({ capacity: 10_000, priorities: 2 });
  let high = 0;
  for (let n = 0; n < 100_000; n++) {
    const priority = n % 20 === 0 ? 0 : 1;
    if (priority === 0) high++;
    source.offer(item(n, priority));
    assert.ok(source.depth <= 10_000);
  }
  assert.equal(source.depth, 10_000);
  assert.deepEqual(source.depthByPriority(), [high, 10_000 - high]);
  assert.deepEqual(source.shedByPriority(), [0, 90_000]);
  // The low ones kept are the newest.
  const got: Item[] = [];
  source.subscribe("a", (i) => got.push(i)).ask(20_000);
  assert.equal(got.length, 10_000);
  assert.ok(got.slice(0, high).every((i) => i.priority === 0));
  const newestLows: number[] = [];
  for (let n = 99_999; newestLows.length < 10_000 - high; n--) if (n % 20 !== 0) newestLows.unshift(n);
  assert.deepEqual(got.slice(high).map((i) => i.n), newestLows);
});

test("demand asked from inside the callback is served without recursion", () => {
  const source = new PushSource<Item>({ capacity: 100, priorities: 1 });
  for (let n = 0; n < 50; n++) source.offer(item(n, 0));
  const got: number[] = [];
  const sub = source.subscribe("a", (i) => {
    got.push(i.n);
    sub.ask(1);
  });
  sub.ask(1);
  assert.equal(got.length, 50);
  assert.equal(sub.demand, 1);
});

test("retracted and cancelled subscriptions get nothing more", () => {
  const source = new PushSource<Item>({ capacity: 10, priorities: 1 });
  const got: number[] = [];
  const sub = source.subscribe("a", (i) => got.push(i.n));
  sub.ask(3);
  assert.equal(sub.retract(), 3);
  source.offer(item(1, 0));
  assert.deepEqual(got, []);
  sub.cancel();
  sub.ask(3);
  assert.deepEqual(got, []);
  assert.equal(source.depth, 1);
});

test("an unknown priority is refused", () => {
  const source = new PushSource<Item>({ capacity: 10, priorities: 2 });
  assert.throws(() => source.offer(item(1, 2)), /priority 2/);
});
