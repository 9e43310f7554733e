// A worker thread holding a share of the fan-out benchmark's gateway sessions: Discord v10
// gateway clients (HELLO → IDENTIFY → READY + GUILD_CREATE, heartbeats) that record, for every
// benchmark message, its first receipt time per session and any duplicate.
//
// The hot path never parses JSON: a MESSAGE_CREATE of this run is recognised by searching the
// raw frame for the run's marker (messages carry `fo:<run>:<seq>:<send ms>`), so 10,000
// sessions cost the harness a buffer search per frame rather than a JSON.parse.
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";
import { RawWebSocket } from "./raw-websocket.js";
import { markerPrefix, nowMs, type Collected, type ConnectResult, type SessionSpec, type ToWorker, type WorkerInit } from "./protocol.js";

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: unknown, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/** A growable typed array. */
class Grow<T extends Int32Array | Float64Array | Uint8Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  ensure(n: number): void {
    if (n <= this.data.length) return;
    let size = Math.max(16, this.data.length);
    while (size < n) size *= 2;
    const next = this.make(size);
    next.set(this.data);
    this.data = next;
  }
  push(v: number): void {
    this.ensure(this.length + 1);
    this.data[this.length++] = v;
  }
  /** The value at i, growing (zero-filled) as needed. */
  inc(i: number): number {
    this.ensure(i + 1);
    if (i >= this.length) this.length = i + 1;
    return ++this.data[i];
  }
  slice(): T {
    return this.data.slice(0, this.length) as T;
  }
}

const i32 = (n = 0) => new Grow(new Int32Array(n), (k) => new Int32Array(k));
const f64 = (n = 0) => new Grow(new Float64Array(n), (k) => new Float64Array(k));
const u8 = (n = 0) => new Grow(new Uint8Array(n), (k) => new Uint8Array(k));

const marker = Buffer.from(markerPrefix(init.run));
const MESSAGE_CREATE = Buffer.from('"t":"MESSAGE_CREATE"');
const SEQ_KEY = Buffer.from('"s":');

const uniquePerSeq = i32(1024);
const duplicatesPerSeq = i32(1024);
const receiptSeq = i32(1 << 16);
const receiptLatency = f64(1 << 16);
const errors: Record<string, number> = {};
const closes: Record<string, number> = {};
let unique = 0;
let duplicates = 0;
let outOfOrder = 0;
let closedAfterReady = 0;
/** Set once the main thread asks to close: closes from then on are ours, not the server's. */
let closing = false;
let frames = 0;
let bytes = 0;
let otherFrames: Record<string, number> = {};

const countError = (kind: string) => (errors[kind] = (errors[kind] ?? 0) + 1);

/** A decimal number in `buf` from `at` (digits and one optional "."); NaN when none. */
function readNumber(buf: Buffer, at: number): { value: number; end: number } {
  let i = at;
  let int = 0;
  let digits = 0;
  while (i < buf.length && buf[i] >= 48 && buf[i] <= 57) {
    int = int * 10 + (buf[i++] - 48);
    digits++;
  }
  let value = int;
  if (i < buf.length && buf[i] === 46) {
    i++;
    let scale = 0.1;
    while (i < buf.length && buf[i] >= 48 && buf[i] <= 57) {
      value += (buf[i++] - 48) * scale;
      scale /= 10;
      digits++;
    }
  }
  return { value: digits ? value : NaN, end: i };
}

class Session {
  private socket?: { send(text: string): void; terminate(): void };
  private heartbeat?: NodeJS.Timeout;
  private lastSeq: number | null = null;
  private awaitingGuilds = new Set<string>();
  private highestMessage = -1;
  /** Receipts per benchmark seq: 0, 1 or more. */
  private readonly seen = u8(256);
  ready = false;
  private done?: (error?: string) => void;
  private opened = 0;
  connectMs = 0;

  constructor(readonly spec: SessionSpec) {}

  connect(timeoutMs: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(`no READY + GUILD_CREATE within ${timeoutMs} ms`), timeoutMs);
      const finish = (error?: string) => {
        if (!this.done) return;
        this.done = undefined;
        clearTimeout(timer);
        if (error) this.socket?.terminate();
        resolve(error);
      };
      this.done = finish;
      this.opened = performance.now();
      const url = `${this.spec.url.replace(/\/$/, "")}/?v=10&encoding=json`;
      const onError = (err: Error) => this.done?.(`socket error: ${err.message}`);
      const onClose = (code: number) => this.onClose(code);
      if (init.client === "ws") {
        const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
        this.socket = { send: (text) => socket.readyState === WebSocket.OPEN && socket.send(text), terminate: () => socket.terminate() };
        socket.on("message", (data: Buffer) => this.onFrame(data));
        socket.on("error", onError);
        socket.on("close", onClose);
      } else {
        const socket = new RawWebSocket(url, { onOpen: () => undefined, onMessage: (data) => this.onFrame(data), onClose, onError }, timeoutMs);
        this.socket = { send: (text) => socket.send(text), terminate: () => socket.terminate() };
      }
    });
  }

  private send(payload: unknown): void {
    this.socket?.send(JSON.stringify(payload));
  }

  private onFrame(data: Buffer): void {
    const receivedAt = nowMs();
    frames++;
    bytes += data.length;
    const at = data.indexOf(marker);
    if (at >= 0 && data.indexOf(MESSAGE_CREATE) >= 0) {
      const s = data.indexOf(SEQ_KEY);
      if (s >= 0) {
        const n = readNumber(data, s + SEQ_KEY.length).value;
        if (Number.isFinite(n)) this.lastSeq = n;
      }
      const seq = readNumber(data, at + marker.length);
      if (!Number.isInteger(seq.value) || data[seq.end] !== 58 /* ":" */) return void countError("unreadable benchmark marker");
      const sent = readNumber(data, seq.end + 1).value;
      this.record(seq.value, sent, receivedAt);
      return;
    }
    let payload: { op: number; d: any; s: number | null; t: string | null };
    try {
      payload = JSON.parse(data.toString());
    } catch {
      return void countError("a frame that is not JSON");
    }
    if (typeof payload.s === "number") this.lastSeq = payload.s;
    const kind = payload.op === 0 ? String(payload.t) : `op ${payload.op}`;
    otherFrames[kind] = (otherFrames[kind] ?? 0) + 1;
    switch (payload.op) {
      case 10: {
        // HELLO: identify, and heartbeat from now on (first beat after interval × jitter).
        const interval = Number(payload.d?.heartbeat_interval);
        if (!(interval > 0)) return void this.done?.("HELLO without heartbeat_interval");
        this.send({
          op: 2,
          d: {
            token: this.spec.token,
            intents: init.intents,
            properties: { os: "linux", browser: "chorus-bench", device: "chorus-bench" },
            presence: { since: null, activities: [], status: init.status, afk: false },
          },
        });
        const beat = () => this.send({ op: 1, d: this.lastSeq });
        this.heartbeat = setTimeout(() => {
          beat();
          this.heartbeat = setInterval(beat, interval);
        }, interval * Math.random());
        return;
      }
      case 1:
        this.send({ op: 1, d: this.lastSeq });
        return;
      case 11:
        return;
      case 7:
        countError("RECONNECT from the gateway");
        return;
      case 9:
        countError("INVALID_SESSION");
        this.done?.("INVALID_SESSION");
        return;
      case 0:
        if (payload.t === "READY") {
          for (const g of (payload.d?.guilds ?? []) as { id: string }[]) this.awaitingGuilds.add(g.id);
          if (this.awaitingGuilds.size === 0) this.becomeReady();
        } else if (payload.t === "GUILD_CREATE") {
          this.awaitingGuilds.delete(String(payload.d?.id));
          if (this.awaitingGuilds.size === 0) this.becomeReady();
        }
        return;
    }
  }

  private becomeReady(): void {
    if (this.ready) return;
    this.ready = true;
    this.connectMs = performance.now() - this.opened;
    this.done?.();
  }

  private record(seq: number, sentMs: number, receivedAt: number): void {
    if (this.seen.inc(seq) > 1) {
      duplicates++;
      duplicatesPerSeq.inc(seq);
      return;
    }
    unique++;
    uniquePerSeq.inc(seq);
    receiptSeq.push(seq);
    receiptLatency.push(receivedAt - sentMs);
    if (seq < this.highestMessage) outOfOrder++;
    else this.highestMessage = seq;
  }

  private onClose(code: number): void {
    clearTimeout(this.heartbeat);
    clearInterval(this.heartbeat);
    if (this.done) this.done(`closed with ${code} before READY`);
    else if (this.ready && !closing) {
      closedAfterReady++;
      closes[String(code)] = (closes[String(code)] ?? 0) + 1;
    }
  }

  close(): void {
    clearTimeout(this.heartbeat);
    clearInterval(this.heartbeat);
    this.socket?.terminate();
  }
}

const sessions = init.sessions.map((spec) => new Session(spec));
let elu = performance.eventLoopUtilization();

/** Sessions (in index order) not attempted yet. */
let nextToConnect = 0;

async function connectUpTo(upToIndex: number): Promise<ConnectResult> {
  const batch: Session[] = [];
  while (nextToConnect < sessions.length && sessions[nextToConnect].spec.index < upToIndex) batch.push(sessions[nextToConnect++]);
  let next = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: Math.min(init.connectConcurrency, batch.length) }, async () => {
      while (next < batch.length) {
        const session = batch[next++];
        const error = await session.connect(init.connectTimeoutMs);
        if (error) {
          failed++;
          failures[error] = (failures[error] ?? 0) + 1;
        }
      }
    }),
  );
  const ready = batch.filter((s) => s.ready);
  return { type: "connected", ready: ready.length, failed, errors: failures, connectMs: ready.map((s) => s.connectMs) };
}

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "connect":
      void connectUpTo(message.upToIndex).then((r) => post(r));
      return;
    case "progress":
      post({ type: "progress", unique, duplicates, closedAfterReady, perSeq: uniquePerSeq.slice() });
      return;
    case "window-start":
      elu = performance.eventLoopUtilization();
      otherFrames = {};
      return;
    case "collect": {
      const collected: Collected = {
        type: "collected",
        uniquePerSeq: uniquePerSeq.slice(),
        duplicatesPerSeq: duplicatesPerSeq.slice(),
        receiptSeq: receiptSeq.slice(),
        receiptLatencyMs: receiptLatency.slice(),
        outOfOrder,
        closes,
        errors,
        eventLoopUtilization: performance.eventLoopUtilization(elu).utilization,
        frames,
        bytes,
        otherFrames,
      };
      post(collected, [collected.receiptSeq.buffer as ArrayBuffer, collected.receiptLatencyMs.buffer as ArrayBuffer]);
      return;
    }
    case "close":
      closing = true;
      for (const s of sessions) s.close();
      setTimeout(() => process.exit(0), 100);
      return;
  }
});
