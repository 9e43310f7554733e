/**
 * Discord's gateway send limit: at most `limit` client payloads in any window of `windowMs`.
 * A sliding log of the last `limit` arrival times: the next payload is refused when the oldest
 * of them is still inside the window.
 */
export class SendRateLimiter {
  private readonly arrivals: number[] = [];
  private next = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one payload; false when it exceeds the limit. */
  take(): boolean {
    const now = this.now();
    if (this.arrivals.length < this.limit) {
      this.arrivals.push(now);
      return true;
    }
    // arrivals is a ring buffer; `next` is its oldest entry.
    if (now - this.arrivals[this.next] < this.windowMs) return false;
    this.arrivals[this.next] = now;
    this.next = (this.next + 1) % this.limit;
    return true;
  }
}
