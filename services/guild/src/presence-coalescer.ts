import { OFFLINE, samePresence, type Presence, type UserPresence } from "@chorus/discord-json/presences";

// What others see of a user is shared with the gateway (GUILD_CREATE, member chunks).
export { OFFLINE, presenceOf, samePresence, type Presence, type SessionPresenceFields } from "@chorus/discord-json/presences";

export type PresenceUpdate = UserPresence;

/** The timer functions the coalescer uses (tests hand in their own clock). */
export interface PresenceTimers {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: PresenceTimers = {
  set: (run, ms) => setTimeout(run, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PresenceCoalescerOptions {
  /** How long changes gather before they are published. */
  windowMs: number;
  /** The user's presence now. */
  current(userId: bigint): Presence;
  /**
   * Publishes updates (never an empty list). May return a promise (e.g. resolved once the
   * queued work is done): changes made until it resolves wait, and go out together after it.
   * Returns undefined when there is nothing to wait for (nobody was told).
   */
  publish(updates: PresenceUpdate[]): Promise<unknown> | undefined;
  timers?: PresenceTimers;
}

/**
 * Coalesces one guild's presence changes. Callers `note` a user whose presence may have
 * changed; at most once per window (and not while waiting for the previous publication)
 * every noted user whose presence differs from what was last published is published once,
 * with the presence they have now. A user who went online and back offline within the window
 * is not published at all. What was last published is kept only for users not offline, so
 * the memory follows the online users.
 */
export class PresenceCoalescer {
  private readonly published = new Map<bigint, Presence>();
  private readonly pending = new Set<bigint>();
  private readonly timers: PresenceTimers;
  private timer: unknown;
  private inFlight = false;
  private closed = false;

  constructor(private readonly options: PresenceCoalescerOptions) {
    this.timers = options.timers ?? realTimers;
  }

  /** The user's presence may have changed. Updates go out in the order of users' last change. */
  note(userId: bigint): void {
    if (this.closed) return;
    this.pending.delete(userId);
    this.pending.add(userId);
    this.schedule();
  }

  /** The user left the guild: nothing to publish about them, nothing to remember. */
  forget(userId: bigint): void {
    this.pending.delete(userId);
    this.published.delete(userId);
  }

  /** Everyone left (the guild was deleted). */
  reset(): void {
    this.pending.clear();
    this.published.clear();
  }

  /** Stops for good (the guild is no longer owned here). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  /** Users noted and not published yet (tests, status). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The noted users whose presence now differs from what was published, recorded as published. */
  take(): PresenceUpdate[] {
    const updates: PresenceUpdate[] = [];
    for (const userId of this.pending) {
      const now = this.options.current(userId);
      if (samePresence(now, this.published.get(userId) ?? OFFLINE)) continue;
      if (samePresence(now, OFFLINE)) this.published.delete(userId);
      else this.published.set(userId, now);
      updates.push({ userId, presence: now });
    }
    this.pending.clear();
    return updates;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.inFlight || this.closed) return;
    this.timer = this.timers.set(() => this.flush(), this.options.windowMs);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.closed) return;
    const updates = this.take();
    if (updates.length === 0) return;
    const queued = this.options.publish(updates);
    if (!queued) return;
    this.inFlight = true;
    const done = () => {
      this.inFlight = false;
      if (this.pending.size > 0) this.schedule();
    };
    queued.then(done, done);
  }
}
