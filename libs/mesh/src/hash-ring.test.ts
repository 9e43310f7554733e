import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DEFAULT_VIRTUAL_NODES, HashRing } from './hash-ring.js';

/** Small deterministic PRNG (xorshift32) so failures are reproducible. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** Snowflake-like ids: ms offsets over ~10 years since 2015, random low 22 bits. */
function snowflakeKeys(count: number, seed: number): string[] {
  const rand = prng(seed);
  const keys: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const ms = BigInt(Math.floor(rand() * 3.2e11));
    const low = BigInt(Math.floor(rand() * 0x40_0000));
    keys[i] = ((ms << 22n) | low).toString();
  }
  return keys;
}

const nodeNames = (n: number, from = 0): string[] =>
  Array.from({ length: n }, (_, i) => `guild-${i + from}.chorus.svc:50051`);

function ringOf(ids: Iterable<string>, virtualNodes?: number): HashRing {
  const ring = new HashRing(virtualNodes === undefined ? {} : { virtualNodes });
  ring.setNodes(ids);
  return ring;
}

function owners(ring: HashRing, keys: readonly string[]): string[] {
  return keys.map((k) => ring.lookup(k)!);
}

const KEYS = snowflakeKeys(100_000, 0xc0ffee);

describe('HashRing balance', () => {
  it(`spreads 100,000 snowflake keys over 8 nodes within ±15% of the mean (V=${DEFAULT_VIRTUAL_NODES})`, () => {
    const ring = ringOf(nodeNames(8));
    const counts = new Map<string, number>();
    for (const owner of owners(ring, KEYS)) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    assert.equal(counts.size, 8);
    const mean = KEYS.length / 8;
    const report = [...counts].map(([n, c]) => `${n}=${((c / mean - 1) * 100).toFixed(1)}%`).join(' ');
    for (const [node, count] of counts) {
      assert.ok(Math.abs(count - mean) <= 0.15 * mean, `${node} owns ${count} keys (mean ${mean}): ${report}`);
    }
  });
});

describe('HashRing minimal movement', () => {
  it('adding a 9th node moves about 1/9 of the keys, all onto the new node', () => {
    const ring = ringOf(nodeNames(8));
    const before = owners(ring, KEYS);
    const added = 'guild-8.chorus.svc:50051';
    ring.add(added);
    const after = owners(ring, KEYS);
    let moved = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (after[i] !== before[i]) {
        moved++;
        assert.equal(after[i], added, `key ${KEYS[i]} moved from ${before[i]} to ${after[i]}`);
      }
    }
    const fraction = moved / KEYS.length;
    const n = 9;
    assert.ok(fraction >= 0.5 / n && fraction <= 1.6 / n, `moved fraction ${fraction} (ideal ${1 / n})`);
  });

  it('removing a node moves exactly that node’s keys', () => {
    const ring = ringOf(nodeNames(9));
    const before = owners(ring, KEYS);
    const removed = 'guild-4.chorus.svc:50051';
    ring.remove(removed);
    assert.equal(ring.has(removed), false);
    const after = owners(ring, KEYS);
    let moved = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === removed) {
        moved++;
        assert.notEqual(after[i], removed);
      } else {
        assert.equal(after[i], before[i], `key ${KEYS[i]} changed owner though its node stayed`);
      }
    }
    assert.ok(moved > 0);
  });

  it('the second choice of lookupN is the owner once the first node is gone', () => {
    const full = ringOf(nodeNames(6));
    const keys = KEYS.slice(0, 5_000);
    const rings = new Map(full.nodes().map((n) => [n, ringOf(full.nodes().filter((m) => m !== n))]));
    for (const key of keys) {
      const [first, second] = full.lookupN(key, 2);
      assert.equal(rings.get(first)!.lookup(key), second);
    }
  });
});

describe('HashRing determinism', () => {
  it('agrees on every key regardless of insertion order and membership history', () => {
    const ids = nodeNames(12);
    const a = ringOf(ids);
    const b = ringOf([...ids].reverse());
    const c = new HashRing();
    const shuffled = [...ids];
    const rand = prng(42);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    c.add('temporary-node');
    for (const id of shuffled) c.add(id);
    c.remove('temporary-node');
    c.add(ids[0]); // duplicate add is a no-op
    const d = new HashRing();
    d.setNodes(nodeNames(20));
    d.setNodes([...ids, ...ids]); // shrink + duplicates

    assert.deepEqual(b.nodes(), a.nodes());
    assert.deepEqual(c.nodes(), a.nodes());
    assert.deepEqual(d.nodes(), a.nodes());
    const expected = owners(a, KEYS);
    assert.deepEqual(owners(b, KEYS), expected);
    assert.deepEqual(owners(c, KEYS), expected);
    assert.deepEqual(owners(d, KEYS), expected);
    for (const key of KEYS.slice(0, 1000)) assert.deepEqual(c.lookupN(key, 4), a.lookupN(key, 4));
  });

  it('is stable across processes and versions (golden mapping)', () => {
    // The mapping is a wire-level contract between callers: changing the hash scheme
    // must be a deliberate, coordinated change. These values pin it down.
    const ring = ringOf(['a', 'b', 'c', 'd']);
    const got = ['0', '1', '175928847299117063', 'guild:42', ''].map((k) => ring.lookup(k));
    assert.deepEqual(got, GOLDEN);
  });

  it('maps bigint keys like their decimal string', () => {
    const ring = ringOf(nodeNames(5));
    for (const key of KEYS.slice(0, 1000)) assert.equal(ring.lookup(BigInt(key)), ring.lookup(key));
  });
});

// Owners of ['0', '1', '175928847299117063', 'guild:42', ''] on the ring {a, b, c, d}
// with the default virtual node count (cross-checked with an independent script).
const GOLDEN: string[] = ['c', 'b', 'b', 'd', 'b'];

describe('HashRing basics', () => {
  it('empty ring returns undefined / []', () => {
    const ring = new HashRing();
    assert.equal(ring.size, 0);
    assert.deepEqual(ring.nodes(), []);
    assert.equal(ring.lookup('123'), undefined);
    assert.equal(ring.lookup(123n), undefined);
    assert.deepEqual(ring.lookupN('123', 3), []);
    ring.add('x');
    ring.remove('x');
    assert.equal(ring.lookup('123'), undefined);
    ring.remove('never-there');
    assert.equal(ring.size, 0);
  });

  it('a single node owns everything', () => {
    const ring = ringOf(['only']);
    for (const key of KEYS.slice(0, 1000)) assert.equal(ring.lookup(key), 'only');
    assert.deepEqual(ring.lookupN('k', 3), ['only']);
  });

  it('tracks membership', () => {
    const ring = new HashRing({ virtualNodes: 16 });
    ring.setNodes(['b', 'a', 'c', 'a']);
    assert.equal(ring.size, 3);
    assert.deepEqual(ring.nodes(), ['a', 'b', 'c']);
    assert.equal(ring.has('a'), true);
    assert.equal(ring.has('z'), false);
    ring.add('z');
    ring.remove('b');
    assert.deepEqual(ring.nodes(), ['a', 'c', 'z']);
    const copy = ring.nodes();
    copy.push('mutated');
    assert.equal(ring.size, 3);
  });

  it('lookupN returns distinct nodes, owner first, capped at the ring size', () => {
    const ring = ringOf(nodeNames(5));
    for (const key of KEYS.slice(0, 2000)) {
      const three = ring.lookupN(key, 3);
      assert.equal(three.length, 3);
      assert.equal(new Set(three).size, 3);
      assert.equal(three[0], ring.lookup(key));
      const all = ring.lookupN(key, 99);
      assert.equal(all.length, 5);
      assert.deepEqual([...all].sort(), ring.nodes());
      assert.deepEqual(all.slice(0, 3), three);
    }
    assert.deepEqual(ring.lookupN('k', 0), []);
    assert.throws(() => ring.lookupN('k', -1), RangeError);
    assert.throws(() => ring.lookupN('k', 1.5), RangeError);
  });

  it('rejects invalid options and node ids', () => {
    assert.throws(() => new HashRing({ virtualNodes: 0 }), RangeError);
    assert.throws(() => new HashRing({ virtualNodes: 2.5 }), RangeError);
    const ring = new HashRing();
    assert.throws(() => ring.add(''), TypeError);
    assert.throws(() => ring.setNodes(['ok', 7 as unknown as string]), TypeError);
    assert.equal(ring.size, 0, 'a rejected setNodes leaves the ring unchanged');
    assert.throws(() => ringOf(['a']).lookup(7 as unknown as string), TypeError);
  });
});
