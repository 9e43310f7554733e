import type { UserSession } from "@chorus/session-directory";

/**
 * Where sessions live between connections: what any gateway node needs to resume a session,
 * its numbered replay buffer, the user → sessions directory, and the bookkeeping that ends
 * sessions nobody resumed. Redis in cluster mode (redis-session-store.ts, layout in
 * @chorus/session-directory and the README); an in-process stand-in in embedded mode
 * (memory-session-store.ts). Both pass the same conformance suite.
 */
export interface SessionStore {
  readonly instanceId: string;
  /** Records a new session, attached to this instance. */
  create(session: NewSession): Promise<void>;
  /**
   * Numbers a batch of dispatches for each session that exists and wants them (intents):
   * a session's share of the batch gets consecutive numbers in the batch's order, is appended
   * to its buffer, and each payload is stored once; a session that already got a delivery id
   * is skipped for it. One atomic step for the whole batch. Returns one entry per session id.
   */
  deliverBatch(batch: DeliveryBatch): Promise<SessionDeliveries[]>;
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

export interface DeliveryBatch {
  /** Every session any of the dispatches goes to. */
  sessionIds: readonly string[];
  /** In the order each session must see them. */
  dispatches: readonly BatchedDispatch[];
}

export interface BatchedDispatch {
  deliveryId: string;
  event: string;
  data: Uint8Array;
  /** Empty when the event has no content to hide. */
  dataWithoutContent: Uint8Array;
  /** 0: every session. */
  intents: number;
  /** Indexes into `sessionIds`; undefined: all of them. */
  targets?: readonly number[];
  /** Indexes into `sessionIds` of sessions that get `data` even without message content. */
  contentExempt?: readonly number[];
  /** "+<guild id>" (GUILD_CREATE: the session joined) or "-<guild id>" (GUILD_DELETE: it left), or "". */
  guildChange?: string;
}

/** What a batch did for one session. */
export interface SessionDeliveries {
  /** Where the session is held ("" detached or unknown). */
  instance: string;
  /** Per dispatch: > 0 numbered and buffered now; 0 not for this session; -1 it already had it. */
  seqs: number[];
  /** Per dispatch: gets `data` (true) or `data_without_content` (false). */
  withContent: boolean[];
}

/** One dispatch through `deliverBatch` (the single-dispatch shape tests and Deliver use). */
export async function deliverOne(store: SessionStore, delivery: DeliveryInput): Promise<DeliveryOutcome[]> {
  const { targets, ...dispatch } = delivery;
  const contentExempt: number[] = [];
  targets.forEach((t, i) => t.contentExempt && contentExempt.push(i));
  const results = await store.deliverBatch({ sessionIds: targets.map((t) => t.sessionId), dispatches: [{ ...dispatch, contentExempt }] });
  return results.map((r) => ({ seq: r.seqs[0], instance: r.seqs[0] === 0 ? "" : r.instance, withContent: r.withContent[0] }));
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

