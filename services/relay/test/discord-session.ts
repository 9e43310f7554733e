// A Discord v10 gateway session as a well-behaved client keeps it: it heartbeats at HELLO's
// interval, remembers its session id and last `s`, and resumes on another connection (another
// node) after a drop. Every dispatch of every connection lands in one history, so a test can
// check the whole sequence a session saw; numbering faults (a skipped or repeated `s`) are
// recorded as they arrive.
import WebSocket from "ws";
import { waitFor } from "@chorus/testing";

export interface Payload {
  op: number;
  d: any;
  s: number | null;
  t: string | null;
}

const Op = { Dispatch: 0, Heartbeat: 1, Identify: 2, Resume: 6, Reconnect: 7, InvalidSession: 9, Hello: 10, HeartbeatAck: 11 } as const;

class Connection {
  readonly received: Payload[] = [];
  closed?: number;
  private readonly socket: WebSocket;
  private heartbeat?: NodeJS.Timeout;

  constructor(
    url: string,
    private readonly onPayload: (p: Payload) => void,
    private readonly lastSeq: () => number | null,
  ) {
    this.socket = new WebSocket(`${url.replace(/\/$/, "")}/?v=10&encoding=json`);
    this.socket.on("message", (data: Buffer) => {
      const payload = JSON.parse(data.toString()) as Payload;
      this.received.push(payload);
      if (payload.op === Op.Hello) {
        this.heartbeat = setInterval(() => this.send({ op: Op.Heartbeat, d: this.lastSeq() }), payload.d.heartbeat_interval);
        this.heartbeat.unref();
      }
      this.onPayload(payload);
    });
    this.socket.on("close", (code) => {
      this.closed = code;
      clearInterval(this.heartbeat);
    });
    // A refused or dropped connection shows as `closed`; the error itself says nothing more.
    this.socket.on("error", () => {});
  }

  send(payload: unknown): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(payload));
  }

  async hello(): Promise<void> {
    await waitFor("HELLO", () => {
      if (this.closed !== undefined) throw new Error(`closed ${this.closed} before HELLO`);
      return this.received.some((p) => p.op === Op.Hello);
    });
  }

  close(code: number): void {
    clearInterval(this.heartbeat);
    this.socket.close(code);
  }

  terminate(): void {
    clearInterval(this.heartbeat);
    this.socket.terminate();
  }
}

export class DiscordSession {
  /** Every dispatch of every connection, in arrival order. */
  readonly history: Payload[] = [];
  /** Numbering faults: an `s` that is not the previous one plus one. */
  readonly faults: string[] = [];
  sessionId = "";
  resumeUrl = "";
  userId = "";
  private seq: number | null = null;
  private connection!: Connection;
  /** How many connections this session has had. */
  connections = 0;

  private constructor(
    readonly label: string,
    private readonly token: string,
    readonly intents: number,
  ) {}

  /** Connects to `url`, identifies, and resolves after READY and the GUILD_CREATE of every guild READY names. */
  static async identify(label: string, url: string, token: string, intents: number): Promise<DiscordSession> {
    const session = new DiscordSession(label, token, intents);
    await session.open(url);
    session.connection.send({ op: Op.Identify, d: { token, intents, properties: { os: "linux", browser: "chorus-relay-test", device: "chorus-relay-test" } } });
    const ready = await session.next("READY", (p) => p.t === "READY");
    session.sessionId = ready.d.session_id;
    session.resumeUrl = ready.d.resume_gateway_url;
    session.userId = ready.d.user.id;
    for (const guild of ready.d.guilds as { id: string }[]) await session.next(`GUILD_CREATE ${guild.id}`, (p) => p.t === "GUILD_CREATE" && p.d.id === guild.id);
    return session;
  }

  /** Opens a new connection to `url` and resumes from the last `s` seen; resolves on RESUMED. */
  async resume(url: string): Promise<void> {
    const from = this.history.length;
    await this.open(url);
    this.connection.send({ op: Op.Resume, d: { token: this.token, session_id: this.sessionId, seq: this.seq } });
    await waitFor(`${this.label}: RESUMED`, () => {
      const refused = this.connection.received.find((p) => p.op === Op.InvalidSession);
      if (refused) throw new Error(`${this.label}: INVALID_SESSION on resume (d: ${refused.d})`);
      if (this.connection.closed !== undefined) throw new Error(`${this.label}: closed ${this.connection.closed} while resuming`);
      return this.history.slice(from).some((p) => p.t === "RESUMED");
    });
  }

  private async open(url: string): Promise<void> {
    this.connection = new Connection(url, (p) => this.receive(p), () => this.seq);
    this.connections++;
    await this.connection.hello();
  }

  private receive(payload: Payload): void {
    if (payload.op !== Op.Dispatch) return;
    this.history.push(payload);
    const expected = (this.seq ?? 0) + 1;
    // RESUMED carries the number the session is at (it takes none of its own).
    const fine = payload.s === expected || (payload.t === "RESUMED" && payload.s === this.seq);
    if (!fine) this.faults.push(`${payload.t} had s=${payload.s}, expected ${expected}`);
    this.seq = Math.max(this.seq ?? 0, payload.s ?? 0);
  }

  /** Close code of the current connection, once it closed. */
  get closed(): number | undefined {
    return this.connection.closed;
  }

  /** Dispatches of type `t`, optionally narrowed. */
  events(t: string, match: (d: any) => boolean = () => true): any[] {
    return this.history.filter((p) => p.t === t && match(p.d)).map((p) => p.d);
  }

  /** The first dispatch matching, waiting for it. */
  async next(what: string, match: (p: Payload) => boolean, timeoutMs = 20_000): Promise<Payload> {
    return waitFor(`${this.label}: ${what}`, () => this.history.find(match), timeoutMs, 20);
  }

  /** Ends the session (close 1000: not resumable). */
  close(): void {
    this.connection.close(1000);
  }

  /** Drops the connection without a close frame (the session stays resumable). */
  drop(): void {
    this.connection.terminate();
  }
}
