import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ReadCoalescer } from "./read-coalescer.js";

/** A query the test resolves or rejects by hand, counting how often it was started. */
function manualQuery<T>() {
  const runs: { resolve: (value: T) => void; reject: (err: unknown) => void }[] = [];
  const query = () =>
    new Promise<T>((resolve, reject) => {
      runs.push({ resolve, reject });
    });
  return { query, runs };
}

describe("ReadCoalescer", () => {
  it("shares one query among identical concurrent reads", async () => {
    let coalesced = 0;
    const coalescer = new ReadCoalescer(() => coalesced++);
    const { query, runs } = manualQuery<string>();
    const reads = [coalescer.read(1n, "k", query), coalescer.read(1n, "k", query), coalescer.read(1n, "k", query)];
    assert.equal(runs.length, 1, "one query for three identical reads");
    assert.equal(coalesced, 2);
    assert.equal(reads[0], reads[1], "the same promise");
    runs[0].resolve("result");
    assert.deepEqual(await Promise.all(reads), ["result", "result", "result"]);
  });

  it("does not share between different keys or different channels", async () => {
    let coalesced = 0;
    const coalescer = new ReadCoalescer(() => coalesced++);
    const { query, runs } = manualQuery<string>();
    const a = coalescer.read(1n, "history:latest::50", query);
    const b = coalescer.read(1n, "history:latest::49", query);
    const c = coalescer.read(2n, "history:latest::50", query);
    assert.equal(runs.length, 3);
    assert.equal(coalesced, 0);
    runs.forEach((run, i) => run.resolve(`r${i}`));
    assert.deepEqual(await Promise.all([a, b, c]), ["r0", "r1", "r2"]);
  });

  it("caches nothing: a read after the query settled runs a new one", async () => {
    const coalescer = new ReadCoalescer();
    const { query, runs } = manualQuery<number>();
    const first = coalescer.read(1n, "k", query);
    runs[0].resolve(1);
    assert.equal(await first, 1);
    const second = coalescer.read(1n, "k", query);
    assert.equal(runs.length, 2);
    runs[1].resolve(2);
    assert.equal(await second, 2);
    assert.equal(coalescer.size, 0, "nothing left in flight");
  });

  it("delivers an error to every waiter, and the next read runs a new query", async () => {
    const coalescer = new ReadCoalescer();
    const { query, runs } = manualQuery<string>();
    const reads = [coalescer.read(7n, "k", query), coalescer.read(7n, "k", query)];
    const failure = new Error("database down");
    runs[0].reject(failure);
    for (const read of reads) await assert.rejects(read, (err) => err === failure);
    assert.equal(coalescer.size, 0);
    const retry = coalescer.read(7n, "k", query);
    assert.equal(runs.length, 2, "a new query after the failure");
    runs[1].resolve("back");
    assert.equal(await retry, "back");
  });

  it("after written(channel), later reads start a new query while earlier waiters get the old result", async () => {
    let coalesced = 0;
    const coalescer = new ReadCoalescer(() => coalesced++);
    const { query, runs } = manualQuery<string>();
    const early = [coalescer.read(1n, "k", query), coalescer.read(1n, "k", query)];
    const otherChannel = coalescer.read(2n, "k", query);
    assert.equal(runs.length, 2);

    coalescer.written(1n);
    const late = coalescer.read(1n, "k", query);
    assert.equal(runs.length, 3, "a read after the write does not join the older query");
    // Other channels are not affected by the write.
    const otherAgain = coalescer.read(2n, "k", query);
    assert.equal(runs.length, 3);
    assert.equal(otherAgain, otherChannel);

    // The old query settles first: its cleanup must not drop the newer query from the map.
    runs[0].resolve("old");
    assert.deepEqual(await Promise.all(early), ["old", "old"]);
    const joinsLate = coalescer.read(1n, "k", query);
    assert.equal(runs.length, 3, "a read joins the newer query still in flight");
    assert.equal(joinsLate, late);

    runs[2].resolve("new");
    runs[1].resolve("other");
    assert.equal(await late, "new");
    assert.equal(await joinsLate, "new");
    assert.equal(await otherChannel, "other");
    assert.equal(coalesced, 3);
    assert.equal(coalescer.size, 0, "every entry is cleaned up");
  });

  it("written() with nothing in flight is harmless", async () => {
    const coalescer = new ReadCoalescer();
    coalescer.written(5n);
    assert.equal(await coalescer.read(5n, "k", async () => "ok"), "ok");
    assert.equal(coalescer.size, 0);
  });
});
