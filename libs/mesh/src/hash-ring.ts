/**
 * Consistent-hash ring with virtual nodes, used to route sharded calls (by guild id,
 * channel id, ...) to live service instances.
 *
 * Determinism: the mapping depends only on the *set* of node ids and the virtual
 * node count, never on insertion order, process, platform or locale, so every
 * caller holding the same membership agrees on the owner of every key.
 *
 * Hashing: MD5 (node's crypto, used for distribution only, not security). A point
 * is the first 6 bytes of the digest read as an unsigned big-endian integer
 * (48 bits, exactly representable in a double), so the ring is a sorted
 * Float64Array searched with plain number comparisons. Virtual node `i` of node
 * `id` hashes the string `${id}#${i}`; a key hashes its own string form (bigint
 * keys are converted with `toString()`, so `123n` and `"123"` map identically).
 *
 * Ties (two virtual nodes on the same 48-bit point, vanishingly rare) are ordered
 * by node id, so they are resolved identically everywhere too.
 */
import * as crypto from 'node:crypto';

/**
 * Default number of virtual nodes per node. Per-node load has a relative standard
 * deviation of roughly 1/sqrt(V); 256 keeps an 8-node ring within about ±15% of
 * the mean for any naming of the nodes while the ring stays tiny (8 nodes: 2,048
 * points, an 11-step binary search).
 */
export const DEFAULT_VIRTUAL_NODES = 1024;
const MAX_VIRTUAL_NODES = 65_536;

export interface HashRingOptions {
  /** Points per node on the ring. Default DEFAULT_VIRTUAL_NODES. */
  virtualNodes?: number;
}

// crypto.hash (one-shot, no Hash object) exists from Node 20.12; fall back otherwise.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'buffer') => Buffer }).hash;
const digest: (data: string) => Buffer =
  typeof oneShot === 'function'
    ? (data) => oneShot('md5', data, 'buffer')
    : (data) => crypto.createHash('md5').update(data).digest();

/** 48-bit position on the ring of an arbitrary string. */
export function ringPoint(data: string): number {
  return digest(data).readUIntBE(0, 6);
}

function keyString(key: string | bigint): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'bigint') return key.toString();
  throw new TypeError(`hash ring key must be a string or bigint, got ${typeof key}`);
}

function checkNodeId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new TypeError(`hash ring node id must be a non-empty string, got ${JSON.stringify(id)}`);
  }
  return id;
}

export class HashRing {
  readonly virtualNodes: number;
  /** Per-node points, computed once per node id while it is a member. */
  readonly #pointsByNode = new Map<string, Float64Array>();
  /** Sorted member ids; ring owners are indexes into this array. */
  #nodes: string[] = [];
  /** Sorted ring positions... */
  #points = new Float64Array(0);
  /** ...and, for each, the index in #nodes of the node owning it. */
  #owners = new Uint32Array(0);

  constructor(opts: HashRingOptions = {}) {
    const v = opts.virtualNodes ?? DEFAULT_VIRTUAL_NODES;
    if (!Number.isInteger(v) || v < 1 || v > MAX_VIRTUAL_NODES) {
      throw new RangeError(`virtualNodes must be an integer in 1..${MAX_VIRTUAL_NODES}, got ${String(v)}`);
    }
    this.virtualNodes = v;
  }

  /** Replace the membership with `ids` (duplicates ignored). Rebuilds at most once. */
  setNodes(ids: Iterable<string>): void {
    const next = new Set<string>();
    for (const id of ids) next.add(checkNodeId(id));
    let changed = next.size !== this.#pointsByNode.size;
    for (const id of this.#pointsByNode.keys()) {
      if (!next.has(id)) {
        this.#pointsByNode.delete(id);
        changed = true;
      }
    }
    for (const id of next) {
      if (!this.#pointsByNode.has(id)) {
        this.#pointsByNode.set(id, this.#hashNode(id));
        changed = true;
      }
    }
    if (changed) this.#rebuild();
  }

  add(id: string): void {
    checkNodeId(id);
    if (this.#pointsByNode.has(id)) return;
    this.#pointsByNode.set(id, this.#hashNode(id));
    this.#rebuild();
  }

  remove(id: string): void {
    if (this.#pointsByNode.delete(id)) this.#rebuild();
  }

  has(id: string): boolean {
    return this.#pointsByNode.has(id);
  }

  get size(): number {
    return this.#nodes.length;
  }

  /** Member ids, sorted. */
  nodes(): string[] {
    return this.#nodes.slice();
  }

  /** Owner of `key`: the node of the first point clockwise from hash(key); undefined when empty. */
  lookup(key: string | bigint): string | undefined {
    if (this.#nodes.length === 0) return undefined;
    return this.#nodes[this.#owners[this.#slot(ringPoint(keyString(key)))]];
  }

  /**
   * The first `n` distinct nodes clockwise from hash(key): the owner first, then
   * fallbacks in a stable order. Returns fewer when the ring has fewer nodes.
   */
  lookupN(key: string | bigint, n: number): string[] {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`n must be a non-negative integer, got ${String(n)}`);
    }
    const want = Math.min(n, this.#nodes.length);
    const out: string[] = [];
    if (want === 0) return out;
    const seen = new Uint8Array(this.#nodes.length);
    const total = this.#points.length;
    const start = this.#slot(ringPoint(keyString(key)));
    for (let step = 0; step < total && out.length < want; step++) {
      const owner = this.#owners[(start + step) % total];
      if (seen[owner] === 0) {
        seen[owner] = 1;
        out.push(this.#nodes[owner]);
      }
    }
    return out;
  }

  /** Index of the first ring point >= h, wrapping to 0 past the end. Ring must be non-empty. */
  #slot(h: number): number {
    const points = this.#points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }

  #hashNode(id: string): Float64Array {
    const pts = new Float64Array(this.virtualNodes);
    for (let i = 0; i < pts.length; i++) pts[i] = ringPoint(`${id}#${i}`);
    return pts;
  }

  #rebuild(): void {
    // Code-unit order (not localeCompare) so every process sorts identically.
    const nodes = [...this.#pointsByNode.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const total = nodes.length * this.virtualNodes;
    const allPoints = new Float64Array(total);
    const allOwners = new Uint32Array(total);
    for (let n = 0, k = 0; n < nodes.length; n++) {
      const pts = this.#pointsByNode.get(nodes[n])!;
      allPoints.set(pts, k);
      allOwners.fill(n, k, k + pts.length);
      k += pts.length;
    }
    // Sort slot indexes by (point, owner); owner index order is node-id order, which
    // makes ties deterministic regardless of insertion order.
    const order = new Uint32Array(total);
    for (let i = 0; i < total; i++) order[i] = i;
    order.sort((a, b) => allPoints[a] - allPoints[b] || allOwners[a] - allOwners[b]);
    const points = new Float64Array(total);
    const owners = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      points[i] = allPoints[order[i]];
      owners[i] = allOwners[order[i]];
    }
    this.#nodes = nodes;
    this.#points = points;
    this.#owners = owners;
  }
}
