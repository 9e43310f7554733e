import { timestampOf, DISCORD_EPOCH_MS } from "@chorus/snowflake";

/**
 * Messages of a channel are partitioned by time: one Cassandra partition per channel per
 * 10-day window, as Discord does, so a partition stays around 100 MB even in busy channels and
 * loading recent history reads one partition.
 */
export const BUCKET_SIZE_MS = 10 * 24 * 60 * 60 * 1000;

/** The bucket of a snowflake: 10-day windows counted from the Discord epoch. */
export function bucketOf(id: bigint): number {
  return Math.floor((timestampOf(id) - Number(DISCORD_EPOCH_MS)) / BUCKET_SIZE_MS);
}

/** The bucket of a point in time (ms since the Unix epoch). */
export function bucketAt(ms: number): number {
  return Math.floor((ms - Number(DISCORD_EPOCH_MS)) / BUCKET_SIZE_MS);
}

/** Buckets from `from` down to `to` inclusive (history walks newest to oldest). */
export function* bucketsDescending(from: number, to: number): Generator<number> {
  for (let b = from; b >= to; b--) yield b;
}
