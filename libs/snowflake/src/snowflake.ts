/**
 * Snowflake ids, Discord layout (64 bits, unsigned):
 *
 *   63                      22 21    17 16    12 11          0
 *   +-------------------------+--------+--------+-------------+
 *   | ms since DISCORD_EPOCH  | worker | process|  sequence   |
 *   |        (42 bits)        | 5 bits | 5 bits |   12 bits   |
 *   +-------------------------+--------+--------+-------------+
 *
 * All arithmetic on ids is done with `bigint`. Timestamps exchanged with callers
 * (`clock`, `timestampOf`, `snowflakeFromTimestamp`, `deconstruct`) are plain
 * `number`s of milliseconds since the Unix epoch, like `Date.now()`; 42 bits of
 * milliseconds after 2015 stay far below Number.MAX_SAFE_INTEGER, so no precision
 * is lost.
 */

/**
 * 2015-01-01T00:00:00.000Z in milliseconds since the Unix epoch, as a `bigint`
 * (it is only ever combined with ids, which are bigints).
 * Use `Number(DISCORD_EPOCH_MS)` when a number is needed.
 */
export const DISCORD_EPOCH_MS = 1420070400000n;

export const WORKER_ID_BITS = 5;
export const PROCESS_ID_BITS = 5;
export const SEQUENCE_BITS = 12;

export const MAX_WORKER_ID = (1 << WORKER_ID_BITS) - 1; // 31
export const MAX_PROCESS_ID = (1 << PROCESS_ID_BITS) - 1; // 31
export const MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1; // 4095

const SEQUENCE_SHIFT = 0n;
const PROCESS_SHIFT = BigInt(SEQUENCE_BITS); // 12
const WORKER_SHIFT = BigInt(SEQUENCE_BITS + PROCESS_ID_BITS); // 17
const TIMESTAMP_SHIFT = BigInt(SEQUENCE_BITS + PROCESS_ID_BITS + WORKER_ID_BITS); // 22

const EPOCH_NUMBER = Number(DISCORD_EPOCH_MS);
/** Largest timestamp offset (ms since DISCORD_EPOCH) that fits in the 42 timestamp bits. */
const MAX_OFFSET_MS = 2 ** 42 - 1;
/** Largest value representable as an unsigned 64-bit snowflake. */
export const MAX_SNOWFLAKE = (1n << 64n) - 1n;
/** Largest timestamp (ms since the Unix epoch) a snowflake can carry (year 2154). */
export const MAX_TIMESTAMP_MS = EPOCH_NUMBER + MAX_OFFSET_MS;

export interface SnowflakeGeneratorOptions {
  /** 0..31 */
  workerId: number;
  /** 0..31 */
  processId: number;
  /** Milliseconds since the Unix epoch; defaults to `Date.now`. Fractions are floored. */
  clock?: () => number;
}

export interface DeconstructedSnowflake {
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  workerId: number;
  processId: number;
  sequence: number;
}

/** Thrown by `parseSnowflake` (and everything accepting string ids) for malformed input. */
export class InvalidSnowflakeError extends Error {
  override name = 'InvalidSnowflakeError';
}

function checkId(field: 'workerId' | 'processId', value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field} must be an integer in 0..${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * Generates snowflakes that are unique and strictly increasing for this instance
 * (uniqueness across instances comes from distinct workerId/processId pairs).
 *
 * Time handling, by design never blocking:
 * - Sequence exhaustion: after 4096 ids in one millisecond the generator moves its
 *   logical timestamp (`lastMs`) one millisecond ahead instead of busy-waiting for
 *   the clock. Under sustained load beyond 4096 ids/ms the ids run slightly ahead of
 *   the wall clock; the clock catches up as soon as the burst ends.
 * - Clock stepping backwards (NTP adjustment, VM migration, or simply "ahead" after a
 *   burst): the generator keeps using `lastMs` and keeps incrementing the sequence,
 *   so ids never go backwards and never repeat; real time resumes once the clock
 *   passes `lastMs` again.
 */
export class SnowflakeGenerator {
  readonly workerId: number;
  readonly processId: number;
  readonly #clock: () => number;
  /** Low 22 bits shared by every id of this generator except the sequence. */
  readonly #nodeBits: bigint;
  /** Logical timestamp (ms since Unix epoch) of the last id issued; -1 before the first. */
  #lastMs = -1;
  #sequence = 0;

  constructor(opts: SnowflakeGeneratorOptions) {
    if (opts === null || typeof opts !== 'object') {
      throw new TypeError('SnowflakeGenerator requires { workerId, processId }');
    }
    this.workerId = checkId('workerId', opts.workerId, MAX_WORKER_ID);
    this.processId = checkId('processId', opts.processId, MAX_PROCESS_ID);
    if (opts.clock !== undefined && typeof opts.clock !== 'function') {
      throw new TypeError('clock must be a function returning milliseconds since the Unix epoch');
    }
    this.#clock = opts.clock ?? Date.now;
    this.#nodeBits = (BigInt(this.workerId) << WORKER_SHIFT) | (BigInt(this.processId) << PROCESS_SHIFT);
  }

  next(): bigint {
    const raw = this.#clock();
    if (!Number.isFinite(raw)) {
      throw new RangeError(`clock returned a non-finite value: ${String(raw)}`);
    }
    const now = Math.floor(raw);
    let ms = this.#lastMs;
    let seq = this.#sequence;
    if (now > ms) {
      ms = now;
      seq = 0;
    } else if (seq < MAX_SEQUENCE) {
      // Same millisecond, or the clock is behind our logical time: stay on lastMs.
      seq++;
    } else {
      // Sequence exhausted: borrow the next millisecond from the future.
      ms++;
      seq = 0;
    }
    const offset = ms - EPOCH_NUMBER;
    if (offset < 0 || offset > MAX_OFFSET_MS) {
      // State is left untouched, so a transiently bad clock does not poison the generator.
      throw new RangeError(
        `timestamp ${ms} is outside the snowflake range [${EPOCH_NUMBER}, ${MAX_TIMESTAMP_MS}]`,
      );
    }
    this.#lastMs = ms;
    this.#sequence = seq;
    return (BigInt(offset) << TIMESTAMP_SHIFT) | this.#nodeBits | BigInt(seq);
  }

  nextString(): string {
    return this.next().toString();
  }
}

/**
 * Strictly parse a snowflake: a bigint, or a string of decimal digits only (no sign,
 * whitespace, prefix or exponent), within 0..2^64-1.
 */
export function parseSnowflake(value: string | bigint): bigint {
  let id: bigint;
  if (typeof value === 'bigint') {
    id = value;
  } else if (typeof value === 'string') {
    if (value.length === 0) {
      throw new InvalidSnowflakeError('invalid snowflake: empty string');
    }
    if (value[0] === '-' && /^-\d+$/.test(value)) {
      throw new InvalidSnowflakeError(`invalid snowflake ${JSON.stringify(value)}: must not be negative`);
    }
    if (!/^\d+$/.test(value)) {
      throw new InvalidSnowflakeError(
        `invalid snowflake ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}: ` +
          'expected a string of decimal digits',
      );
    }
    // 2^64-1 has 20 digits; reject absurdly long input before BigInt parses it.
    if (value.replace(/^0+(?=\d)/, '').length > 20) {
      throw new InvalidSnowflakeError(`invalid snowflake: ${value.length}-digit value exceeds 64 bits`);
    }
    id = BigInt(value);
  } else {
    const hint = typeof value === 'number' ? ' (pass ids as strings; numbers lose precision above 2^53)' : '';
    throw new InvalidSnowflakeError(`invalid snowflake: expected string or bigint, got ${typeof value}${hint}`);
  }
  if (id < 0n) {
    throw new InvalidSnowflakeError(`invalid snowflake ${id}: must not be negative`);
  }
  if (id > MAX_SNOWFLAKE) {
    throw new InvalidSnowflakeError(`invalid snowflake ${id}: exceeds 64 bits`);
  }
  return id;
}

/** Creation time of a snowflake, in milliseconds since the Unix epoch. */
export function timestampOf(id: bigint | string): number {
  return Number(parseSnowflake(id) >> TIMESTAMP_SHIFT) + EPOCH_NUMBER;
}

/** Creation time of a snowflake as a Date. */
export function dateOf(id: bigint | string): Date {
  return new Date(timestampOf(id));
}

/**
 * The lowest snowflake that can be generated in millisecond `ms` (Unix epoch ms;
 * fractions are floored). Every id created at or after `ms` is >= the result and
 * every id created before it is smaller, which makes it a cursor for "messages
 * since/before time T" queries.
 */
export function snowflakeFromTimestamp(ms: number): bigint {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new RangeError(`timestamp must be a finite number of milliseconds, got ${String(ms)}`);
  }
  const offset = Math.floor(ms) - EPOCH_NUMBER;
  if (offset < 0 || offset > MAX_OFFSET_MS) {
    throw new RangeError(
      `timestamp ${ms} is outside the snowflake range [${EPOCH_NUMBER}, ${MAX_TIMESTAMP_MS}]`,
    );
  }
  return BigInt(offset) << TIMESTAMP_SHIFT;
}

/** Split a snowflake into its fields (timestamp in Unix epoch ms). */
export function deconstruct(id: bigint | string): DeconstructedSnowflake {
  const v = parseSnowflake(id);
  return {
    timestamp: Number(v >> TIMESTAMP_SHIFT) + EPOCH_NUMBER,
    workerId: Number((v >> WORKER_SHIFT) & BigInt(MAX_WORKER_ID)),
    processId: Number((v >> PROCESS_SHIFT) & BigInt(MAX_PROCESS_ID)),
    sequence: Number((v >> SEQUENCE_SHIFT) & BigInt(MAX_SEQUENCE)),
  };
}
