// What the fan-out benchmark's sender and its gateway clients agree on: how a message carries
// its sequence number and send time, and the messages between the main thread and the client
// worker threads.

/** Discord gateway intents the sessions identify with: GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT. */
export const SESSION_INTENTS = (1 << 0) | (1 << 9) | (1 << 15);

/** Wall-clock time in milliseconds with sub-millisecond precision, comparable across threads. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * A benchmark message's content starts with `fo:<run>:<seq>:<send time ms>` (the send time as
 * epoch milliseconds with three decimals), then ordinary words up to ~100 characters, so a
 * receiver learns which message it got and when it was sent without any shared state, and
 * messages of other runs (or other traffic) are ignored.
 */
export function markerPrefix(run: string): string {
  return `fo:${run}:`;
}

const FILLER = (
  "raid tonight at nine bring potions and food the patch notes are out did anyone read them " +
  "lol that boss fight was wild who is on voice later gg everyone nice clutch at the end"
).split(" ");

export function messageContent(run: string, seq: number, sendMs: number): string {
  let content = `${markerPrefix(run)}${seq}:${sendMs.toFixed(3)}`;
  for (let i = seq; content.length < 100; i++) content += ` ${FILLER[i % FILLER.length]}`;
  return content;
}

/** One gateway session a worker opens. */
export interface SessionSpec {
  index: number;
  url: string;
  token: string;
}

export interface WorkerInit {
  run: string;
  sessions: SessionSpec[];
  intents: number;
  /** Sessions of this worker connecting (until READY + GUILD_CREATE) at once. */
  connectConcurrency: number;
  /** Per session: from opening the socket to its last GUILD_CREATE. */
  connectTimeoutMs: number;
  /** WebSocket client: "raw" (raw-websocket.ts, the default) or the `ws` package. */
  client: "raw" | "ws";
  /** IDENTIFY's presence status ("online" as clients do; "invisible": others see the user offline). */
  status: "online" | "invisible";
}

/** Main thread → worker. */
export type ToWorker =
  /** Connect the sessions with index below `upToIndex` not connected yet. */
  | { type: "connect"; upToIndex: number }
  | { type: "progress" }
  | { type: "window-start" }
  | { type: "collect" }
  | { type: "close" };

export interface ConnectResult {
  type: "connected";
  ready: number;
  failed: number;
  errors: Record<string, number>;
  /** Milliseconds from opening the socket to the last GUILD_CREATE, per ready session. */
  connectMs: number[];
}

export interface Progress {
  type: "progress";
  /** First receipts (any seq) so far. */
  unique: number;
  /** Receipts beyond the first of a (session, seq). */
  duplicates: number;
  /** Sessions that were ready and closed since. */
  closedAfterReady: number;
  /** Unique receipts per seq so far, summed over the worker's sessions. */
  perSeq: Int32Array;
}

export interface Collected {
  type: "collected";
  /** Unique receipts per seq, summed over this worker's sessions. */
  uniquePerSeq: Int32Array;
  duplicatesPerSeq: Int32Array;
  /** Parallel arrays: one entry per first receipt (seq, send → receipt in ms). */
  receiptSeq: Int32Array;
  receiptLatencyMs: Float64Array;
  /** Deliveries that were out of order within a session (a lower seq after a higher one). */
  outOfOrder: number;
  /** Close codes of sessions that closed after READY, with counts. */
  closes: Record<string, number>;
  errors: Record<string, number>;
  /** Event-loop utilisation of the worker since "window-start" (1 = never idle). */
  eventLoopUtilization: number;
  frames: number;
  bytes: number;
  /** Frames other than this run's MESSAGE_CREATEs, by op and dispatch name (since "window-start"). */
  otherFrames: Record<string, number>;
}

export type FromWorker = ConnectResult | Progress | Collected | { type: "log"; message: string };
