/**
 * Request coalescing, as Discord's data services do it: identical concurrent reads share one
 * database query. The first request starts the query; requests that arrive while it runs
 * subscribe to its result (or its error).
 *
 * Freshness: once a write to a channel is acknowledged, `written(channel)` forgets the reads
 * in flight for that channel, so a read that starts after the ack always runs a new query
 * and sees the write. Readers already waiting keep their (older) result, which is correct for
 * reads that began before the write was acknowledged.
 */
export class ReadCoalescer {
  private readonly inflight = new Map<bigint, Map<string, Promise<unknown>>>();

  constructor(private readonly onCoalesced: () => void = () => {}) {}

  read<T>(channelId: bigint, key: string, query: () => Promise<T>): Promise<T> {
    let reads = this.inflight.get(channelId);
    const pending = reads?.get(key);
    if (pending) {
      this.onCoalesced();
      return pending as Promise<T>;
    }
    if (!reads) this.inflight.set(channelId, (reads = new Map()));
    const owner = reads;
    const promise = query().finally(() => {
      // Only remove our own entry: a write may have replaced the map meanwhile.
      if (owner.get(key) === promise) owner.delete(key);
      if (owner.size === 0 && this.inflight.get(channelId) === owner) this.inflight.delete(channelId);
    });
    owner.set(key, promise);
    return promise;
  }

  /** A write to the channel was acknowledged: later reads must not join older queries. */
  written(channelId: bigint): void {
    this.inflight.delete(channelId);
  }

  /** Channels with reads in flight (for tests and status). */
  get size(): number {
    return this.inflight.size;
  }
}
