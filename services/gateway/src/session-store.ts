import type { UserSession } from "./session-directory.js";

/**
 * Where sessions live between connections: what any gateway node needs to resume a session,
 * its numbered replay buffer, the user → sessions directory, and the bookkeeping that ends
 * sessions nobody resumed. Redis in cluster mode (redis-session-store.ts, layout in
 * session-directory.ts and the README); an in-process stand-in in embedded mode
 * (memory-session-store.ts). Both pass the same conformance suite.
 */
export interface SessionStore {
  readonly instanceId: string;
  /** Records a new session, attached to this instance. */
  create(session: NewSession): Promise<void>;
  /**
   * Numbers one dispatch for each target that exists and wants it (intents), appends it to
   * their buffers and stores the payload once; a target that already got this delivery id
   * is skipped. One atomic step for all targets.
   */
  deliver(delivery: DeliveryInput): Promise<DeliveryOutcome[]>;
  /** Attaches an existing session of `userId` to this instance; undefined when there is none. */
  takeOver(sessionId: string, userId: bigint): Promise<StoredSession | undefined>;
  /**
   * The buffered dispatches after `afterSeq`, in order; undefined when the buffer no longer
   * holds them all (it keeps at least the last `bufferSize`; Redis trims in steps of 64).
   */
  readAfter(sessionId: string, afterSeq: number): Promise<BufferedDispatch[] | undefined>;
  /** Detaches a session held here at `gen`; it ends at `endsAt` (ms) unless resumed. False when someone took it over since. */
  detach(sessionId: string, gen: number, endsAt: number): Promise<boolean>;
  /**
   * Detaches the sessions of instances that stopped running (and of `forcedInstance`), then
   * ends detached sessions whose time is up. Each ended session is returned to one caller.
   */
  sweep(now: number, adoptedEndAt: number, forcedInstance?: string, limit?: number): Promise<EndedSession[]>;
  /** Keeps a live session from expiring. */
  refresh(sessionId: string, userId: bigint): Promise<void>;
  /** Says this instance runs (for `ttlSeconds`); sessions of instances that stop saying it are taken over. */
  markAlive(ttlSeconds: number): Promise<void>;
  markGone(): Promise<void>;
  /** Tells another instance that sessions it holds got dispatches through this one. */
  poke(instanceId: string, sessionIds: readonly string[]): Promise<void>;
  /** Receives this instance's pokes. */
  onPoke(handler: (sessionIds: string[]) => void): Promise<void>;
  /** Every live session of each user. */
  lookupUsers(userIds: readonly bigint[]): Promise<UserSession[]>;
  close(): Promise<void>;
}

export interface DeliveryInput {
  deliveryId: string;
  event: string;
  data: Uint8Array;
  /** Empty when the event has no content to hide. */
  dataWithoutContent: Uint8Array;
  /** 0: every session. */
  intents: number;
  targets: readonly DeliveryTarget[];
  /** "+<guild id>" (GUILD_CREATE: the session joined) or "-<guild id>" (GUILD_DELETE: it left), or "". */
  guildChange?: string;
}

export interface NewSession {
  sessionId: string;
  userId: bigint;
  intents: number;
  /** Sees message content (persons; bots with MESSAGE_CONTENT). */
  content: boolean;
  bot: boolean;
  shard?: [number, number];
  guildIds: readonly bigint[];
  /** READY's `d`: the session's dispatch 1, buffered like every other. */
  ready: { deliveryId: string; data: Uint8Array };
}

export interface StoredSession {
  userId: bigint;
  intents: number;
  content: boolean;
  bot: boolean;
  shard?: [number, number];
  /** Last dispatch number handed out. */
  seq: number;
  gen: number;
  guildIds: bigint[];
  /** The instance that held it before (empty: it was detached). */
  previousInstance: string;
}

export interface DeliveryTarget {
  sessionId: string;
  /** Gets `data` even without message content (Discord's exemptions). */
  contentExempt: boolean;
}

export interface DeliveryOutcome {
  /** > 0: numbered and buffered now; 0: not for this session; -1: it already had it. */
  seq: number;
  /** Where the session is held ("" detached). */
  instance: string;
  /** Gets `data` (true) or `data_without_content` (false). */
  withContent: boolean;
}

export interface BufferedDispatch {
  seq: number;
  event: string;
  data: Buffer;
}

export interface EndedSession {
  sessionId: string;
  userId: bigint;
  guildIds: bigint[];
}

export interface SessionStoreOptions {
  prefix: string;
  instanceId: string;
  bufferSize: number;
  /** Lifetime of session keys without refresh, and of stored dispatches. */
  ttlSeconds: number;
}

