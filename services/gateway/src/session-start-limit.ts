import type { Redis } from "ioredis";

/** Discord's window for session starts: 24 hours from a bot's first IDENTIFY in it. */
export const SESSION_START_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Discord's `session_start_limit` of one bot user (GET /gateway/bot). */
export interface SessionStartLimit {
  total: number;
  remaining: number;
  /** Milliseconds until `remaining` is back to `total` (0 when nothing was counted). */
  resetAfterMs: number;
  /** IDENTIFYs allowed per 5 s (Chorus does not pace them: always 1, Discord's default). */
  maxConcurrency: number;
}

export interface SessionStartOutcome {
  /** False when the window's starts were all used (nothing was counted). */
  allowed: boolean;
  /** The limit after this start. */
  limit: SessionStartLimit;
}

/**
 * Counts the IDENTIFYs (session starts; RESUMEs are free) of each bot user, as Discord does:
 * `total` per window, the window starting with the first start counted in it.
 */
export interface SessionStartCounter {
  /** Counts one session start if the window has one left. */
  take(userId: bigint): Promise<SessionStartOutcome>;
  /** The limit now, counting nothing. */
  peek(userId: bigint): Promise<SessionStartLimit>;
}

export interface SessionStartOptions {
  /** Session starts per window (CHORUS_GATEWAY_SESSION_START_LIMIT). */
  total: number;
  windowMs?: number;
}

/** The limit from what was counted: `used` starts, the window ending in `resetAfterMs` (<= 0: no window). */
export function sessionStartLimit(total: number, used: number, resetAfterMs: number): SessionStartLimit {
  const open = resetAfterMs > 0;
  return { total, remaining: open ? Math.max(0, total - used) : total, resetAfterMs: open ? resetAfterMs : 0, maxConcurrency: 1 };
}

/** Embedded mode: the counts live in this process (one gateway). `now` is for tests. */
export class MemorySessionStartCounter implements SessionStartCounter {
  private readonly windows = new Map<bigint, { used: number; endsAt: number }>();
  private readonly windowMs: number;

  constructor(
    private readonly options: SessionStartOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = options.windowMs ?? SESSION_START_WINDOW_MS;
  }

  async take(userId: bigint): Promise<SessionStartOutcome> {
    const now = this.now();
    let window = this.current(userId, now);
    const allowed = (window?.used ?? 0) < this.options.total;
    if (allowed) {
      window ??= { used: 0, endsAt: now + this.windowMs };
      window.used++;
      this.windows.set(userId, window);
    }
    return { allowed, limit: sessionStartLimit(this.options.total, window?.used ?? 0, (window?.endsAt ?? now) - now) };
  }

  async peek(userId: bigint): Promise<SessionStartLimit> {
    const now = this.now();
    const window = this.current(userId, now);
    return sessionStartLimit(this.options.total, window?.used ?? 0, (window?.endsAt ?? now) - now);
  }

  /** The user's open window; ended ones are dropped (so memory follows the bots seen in a window). */
  private current(userId: bigint, now: number) {
    const window = this.windows.get(userId);
    if (window && window.endsAt <= now) {
      this.windows.delete(userId);
      return undefined;
    }
    return window;
  }
}

/**
 * One step for a start: counts it only while the window has room; the first start opens the
 * window (the key's TTL). Answers {allowed 0/1, used, ms left}.
 */
const TAKE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return {0, used, redis.call('PTTL', KEYS[1])} end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, used, redis.call('PTTL', KEYS[1])}
`;

type Scripted = Redis & {
  chorusTakeSessionStart(key: string, total: number, windowMs: number): Promise<[number, number, number]>;
};

/**
 * Cluster mode: one counter per bot user in Redis, shared by every gateway node
 * (`<prefix>starts:<user id>`, a string whose TTL is the window).
 */
export class RedisSessionStartCounter implements SessionStartCounter {
  private readonly windowMs: number;
  private readonly redis: Scripted;

  constructor(
    redis: Redis,
    /** The gateway's key prefix (chorus:<namespace>:gw:). */
    private readonly prefix: string,
    private readonly options: SessionStartOptions,
  ) {
    this.windowMs = options.windowMs ?? SESSION_START_WINDOW_MS;
    redis.defineCommand("chorusTakeSessionStart", { numberOfKeys: 1, lua: TAKE });
    this.redis = redis as Scripted;
  }

  private key(userId: bigint): string {
    return `${this.prefix}starts:${userId}`;
  }

  async take(userId: bigint): Promise<SessionStartOutcome> {
    const [allowed, used, ttl] = await this.redis.chorusTakeSessionStart(this.key(userId), this.options.total, this.windowMs);
    return { allowed: allowed === 1, limit: sessionStartLimit(this.options.total, used, ttl) };
  }

  async peek(userId: bigint): Promise<SessionStartLimit> {
    const key = this.key(userId);
    const results = await this.redis.multi().get(key).pttl(key).exec();
    if (!results) throw new Error("session start count: transaction aborted");
    for (const [err] of results) if (err) throw err;
    const [[, used], [, ttl]] = results as [[null, string | null], [null, number]];
    return sessionStartLimit(this.options.total, Number(used ?? 0), ttl);
  }
}
