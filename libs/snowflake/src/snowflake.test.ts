import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  DISCORD_EPOCH_MS,
  InvalidSnowflakeError,
  MAX_SNOWFLAKE,
  MAX_TIMESTAMP_MS,
  SnowflakeGenerator,
  dateOf,
  deconstruct,
  parseSnowflake,
  snowflakeFromTimestamp,
  timestampOf,
} from './index.js';

const EPOCH = Number(DISCORD_EPOCH_MS);

function assertStrictlyIncreasing(ids: readonly bigint[]): void {
  for (let i = 1; i < ids.length; i++) {
    if (!(ids[i] > ids[i - 1])) {
      assert.fail(`id #${i} (${ids[i]}) is not greater than id #${i - 1} (${ids[i - 1]})`);
    }
  }
}

/** A clock that returns the given values in order, then keeps returning the last one. */
function scriptedClock(values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)];
}

describe('decoding', () => {
  // Example id from Discord's API reference; fields computed with the layout formula:
  // (id >> 22) + 1420070400000 = 1462015105796, (id >> 17) & 31 = 1, (id >> 12) & 31 = 0, id & 4095 = 7.
  const KNOWN = '175928847299117063';

  it('decodes a known Discord id', () => {
    assert.deepEqual(deconstruct(KNOWN), {
      timestamp: 1462015105796,
      workerId: 1,
      processId: 0,
      sequence: 7,
    });
    assert.deepEqual(deconstruct(BigInt(KNOWN)), deconstruct(KNOWN));
    assert.equal(timestampOf(KNOWN), 1462015105796);
    assert.equal(timestampOf(BigInt(KNOWN)), 1462015105796);
    assert.equal(dateOf(KNOWN).toISOString(), '2016-04-30T11:18:25.796Z');
  });

  it('uses the 2015-01-01 epoch', () => {
    assert.equal(DISCORD_EPOCH_MS, BigInt(Date.parse('2015-01-01T00:00:00.000Z')));
    assert.equal(timestampOf(0n), EPOCH);
    assert.equal(timestampOf((1n << 22n) - 1n), EPOCH);
    assert.equal(timestampOf(1n << 22n), EPOCH + 1);
  });

  it('decodes the largest 64-bit id', () => {
    assert.deepEqual(deconstruct(MAX_SNOWFLAKE), {
      timestamp: MAX_TIMESTAMP_MS,
      workerId: 31,
      processId: 31,
      sequence: 4095,
    });
  });

  it('round-trips generator fields through deconstruct', () => {
    const t = Date.parse('2024-06-01T12:34:56.789Z');
    const gen = new SnowflakeGenerator({ workerId: 17, processId: 29, clock: () => t });
    gen.next();
    gen.next();
    assert.deepEqual(deconstruct(gen.next()), { timestamp: t, workerId: 17, processId: 29, sequence: 2 });
  });
});

describe('snowflakeFromTimestamp', () => {
  it('returns the lowest id of a millisecond', () => {
    const t = 1462015105796;
    const low = snowflakeFromTimestamp(t);
    assert.deepEqual(deconstruct(low), { timestamp: t, workerId: 0, processId: 0, sequence: 0 });
    assert.equal(timestampOf(low - 1n), t - 1);
    assert.equal(snowflakeFromTimestamp(EPOCH), 0n);
    assert.equal(snowflakeFromTimestamp(t + 0.9), low);
  });

  it('is a lower bound for ids generated in that millisecond', () => {
    const gen = new SnowflakeGenerator({ workerId: 31, processId: 31 });
    for (let i = 0; i < 1000; i++) {
      const id = gen.next();
      assert.ok(snowflakeFromTimestamp(timestampOf(id)) <= id);
      assert.ok(snowflakeFromTimestamp(timestampOf(id) + 1) > id);
    }
    const known = 175928847299117063n;
    assert.ok(snowflakeFromTimestamp(timestampOf(known)) <= known);
  });

  it('rejects timestamps outside the representable range', () => {
    assert.throws(() => snowflakeFromTimestamp(EPOCH - 1), RangeError);
    assert.throws(() => snowflakeFromTimestamp(MAX_TIMESTAMP_MS + 1), RangeError);
    assert.throws(() => snowflakeFromTimestamp(Number.NaN), RangeError);
    assert.equal(snowflakeFromTimestamp(MAX_TIMESTAMP_MS), MAX_SNOWFLAKE & ~((1n << 22n) - 1n));
  });
});

describe('SnowflakeGenerator', () => {
  it('produces 100,000 unique, strictly increasing ids with the real clock', () => {
    const gen = new SnowflakeGenerator({ workerId: 3, processId: 4 });
    const ids: bigint[] = new Array(100_000);
    for (let i = 0; i < ids.length; i++) ids[i] = gen.next();
    assertStrictlyIncreasing(ids);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) {
      assert.ok(id > 0n && id <= MAX_SNOWFLAKE, `${id} does not fit in 64 bits`);
      assert.ok(id < 1n << 63n, 'ids generated before 2084 keep the sign bit clear');
    }
    const d = deconstruct(ids[ids.length - 1]);
    assert.equal(d.workerId, 3);
    assert.equal(d.processId, 4);
    // Sequence overflow may push ids slightly ahead of the clock, never far.
    assert.ok(Math.abs(d.timestamp - Date.now()) < 60_000);
  });

  it('stays unique and increasing past 4096 ids in one frozen millisecond', () => {
    const t = Date.parse('2023-03-03T03:03:03.003Z');
    const gen = new SnowflakeGenerator({ workerId: 0, processId: 0, clock: () => t });
    const n = 3 * 4096 + 10;
    const ids: bigint[] = [];
    for (let i = 0; i < n; i++) ids.push(gen.next());
    assertStrictlyIncreasing(ids);
    assert.equal(new Set(ids).size, n);
    // The first 4096 use the real millisecond, then the generator borrows t+1, t+2, t+3.
    assert.deepEqual(deconstruct(ids[4095]), { timestamp: t, workerId: 0, processId: 0, sequence: 4095 });
    assert.deepEqual(deconstruct(ids[4096]), { timestamp: t + 1, workerId: 0, processId: 0, sequence: 0 });
    assert.deepEqual(deconstruct(ids[n - 1]), { timestamp: t + 3, workerId: 0, processId: 0, sequence: 9 });
  });

  it('resumes the real clock once it catches up after borrowing', () => {
    let now = Date.parse('2023-03-03T03:03:03.003Z');
    const t = now;
    const gen = new SnowflakeGenerator({ workerId: 1, processId: 2, clock: () => now });
    const ids: bigint[] = [];
    for (let i = 0; i < 4096 * 2 + 1; i++) ids.push(gen.next()); // up to t+2, sequence 0
    now = t + 1; // clock still behind the logical time
    ids.push(gen.next());
    assert.deepEqual(deconstruct(ids[ids.length - 1]), { timestamp: t + 2, workerId: 1, processId: 2, sequence: 1 });
    now = t + 5; // clock passed it
    ids.push(gen.next());
    assert.deepEqual(deconstruct(ids[ids.length - 1]), { timestamp: t + 5, workerId: 1, processId: 2, sequence: 0 });
    assertStrictlyIncreasing(ids);
  });

  it('never goes backwards when the clock steps back', () => {
    const t = Date.parse('2022-01-01T00:00:00.000Z');
    const gen = new SnowflakeGenerator({
      workerId: 5,
      processId: 6,
      clock: scriptedClock([t + 1000, t + 1000, t + 10, t + 10, t + 500, t + 999, t + 1000, t + 1001, t - 5000, t + 2000]),
    });
    const ids: bigint[] = [];
    for (let i = 0; i < 10; i++) ids.push(gen.next());
    assertStrictlyIncreasing(ids);
    assert.deepEqual(
      ids.map((id) => deconstruct(id).timestamp - t),
      [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1001, 1001, 2000],
    );
    assert.deepEqual(
      ids.map((id) => deconstruct(id).sequence),
      [0, 1, 2, 3, 4, 5, 6, 0, 1, 0],
    );
  });

  it('stays unique when the clock is stuck in the past for a long burst', () => {
    const t = Date.parse('2022-01-01T00:00:00.000Z');
    let now = t + 100;
    const gen = new SnowflakeGenerator({ workerId: 5, processId: 6, clock: () => now });
    const ids: bigint[] = [gen.next()];
    now = t; // 100 ms backwards, then 10,000 ids
    for (let i = 0; i < 10_000; i++) ids.push(gen.next());
    assertStrictlyIncreasing(ids);
    assert.equal(deconstruct(ids[ids.length - 1]).timestamp, t + 102);
  });

  it('floors fractional clocks', () => {
    const t = Date.parse('2022-01-01T00:00:00.000Z');
    const gen = new SnowflakeGenerator({ workerId: 0, processId: 0, clock: scriptedClock([t + 0.2, t + 0.9, t + 1.5]) });
    assert.deepEqual([gen.next(), gen.next(), gen.next()].map((id) => deconstruct(id).timestamp - t), [0, 0, 1]);
  });

  it('nextString returns the decimal form', () => {
    const t = Date.parse('2022-01-01T00:00:00.000Z');
    const a = new SnowflakeGenerator({ workerId: 9, processId: 9, clock: () => t });
    const b = new SnowflakeGenerator({ workerId: 9, processId: 9, clock: () => t });
    const s = a.nextString();
    assert.match(s, /^\d+$/);
    assert.equal(s, b.next().toString());
    assert.equal(parseSnowflake(s), BigInt(s));
  });

  it('keeps ids within 64 bits and refuses timestamps that do not fit', () => {
    const gen = new SnowflakeGenerator({ workerId: 31, processId: 31, clock: () => MAX_TIMESTAMP_MS });
    let last = 0n;
    for (let i = 0; i < 4096; i++) last = gen.next();
    assert.equal(last, MAX_SNOWFLAKE);
    assert.throws(() => gen.next(), RangeError); // would need to borrow a millisecond past 2^42
    const future = new SnowflakeGenerator({ workerId: 0, processId: 0, clock: () => MAX_TIMESTAMP_MS + 1 });
    assert.throws(() => future.next(), RangeError);
    const past = new SnowflakeGenerator({ workerId: 0, processId: 0, clock: () => EPOCH - 1 });
    assert.throws(() => past.next(), RangeError);
    const broken = new SnowflakeGenerator({ workerId: 0, processId: 0, clock: () => Number.NaN });
    assert.throws(() => broken.next(), RangeError);
  });

  it('is not poisoned by a transiently out-of-range clock', () => {
    const t = Date.parse('2022-01-01T00:00:00.000Z');
    const gen = new SnowflakeGenerator({ workerId: 0, processId: 0, clock: scriptedClock([MAX_TIMESTAMP_MS + 1, t]) });
    assert.throws(() => gen.next(), RangeError);
    assert.equal(timestampOf(gen.next()), t);
  });

  it('rejects invalid worker and process ids', () => {
    for (const bad of [-1, 32, 1.5, Number.NaN, Infinity, '1' as unknown as number, undefined as unknown as number]) {
      assert.throws(
        () => new SnowflakeGenerator({ workerId: bad, processId: 0 }),
        (err: unknown) => err instanceof RangeError && /workerId/.test(err.message),
        `workerId ${String(bad)}`,
      );
      assert.throws(
        () => new SnowflakeGenerator({ workerId: 0, processId: bad }),
        (err: unknown) => err instanceof RangeError && /processId/.test(err.message),
        `processId ${String(bad)}`,
      );
    }
    assert.doesNotThrow(() => new SnowflakeGenerator({ workerId: 0, processId: 31 }));
    assert.doesNotThrow(() => new SnowflakeGenerator({ workerId: 31, processId: 0 }));
  });
});

describe('parseSnowflake', () => {
  it('accepts decimal strings and bigints in range', () => {
    assert.equal(parseSnowflake('175928847299117063'), 175928847299117063n);
    assert.equal(parseSnowflake(175928847299117063n), 175928847299117063n);
    assert.equal(parseSnowflake('0'), 0n);
    assert.equal(parseSnowflake('18446744073709551615'), MAX_SNOWFLAKE);
    assert.equal(parseSnowflake('000000000000000000000042'), 42n);
  });

  it('rejects non-numeric input', () => {
    for (const bad of ['', ' 1', '1 ', '12a', '0x10', '1e5', '1.0', '+1', 'abc', '١٢٣']) {
      assert.throws(() => parseSnowflake(bad), InvalidSnowflakeError, JSON.stringify(bad));
    }
    assert.throws(() => parseSnowflake(12 as unknown as string), /expected string or bigint, got number/);
    assert.throws(() => parseSnowflake(null as unknown as string), InvalidSnowflakeError);
  });

  it('rejects negative values', () => {
    assert.throws(() => parseSnowflake('-1'), /must not be negative/);
    assert.throws(() => parseSnowflake(-1n), /must not be negative/);
  });

  it('rejects values wider than 64 bits', () => {
    assert.throws(() => parseSnowflake('18446744073709551616'), /exceeds 64 bits/);
    assert.throws(() => parseSnowflake(1n << 64n), /exceeds 64 bits/);
    assert.throws(() => parseSnowflake('9'.repeat(10_000)), /exceeds 64 bits/);
  });

  it('is applied by the decoding helpers', () => {
    assert.throws(() => timestampOf('nope'), InvalidSnowflakeError);
    assert.throws(() => deconstruct(-5n), InvalidSnowflakeError);
    assert.throws(() => dateOf('18446744073709551616'), InvalidSnowflakeError);
  });
});
