// A bare Discord gateway client for the tests: every payload it receives, in order, and waits.
import { constants, createInflate } from "node:zlib";
import WebSocket from "ws";
import { waitFor } from "@chorus/testing";

export interface Payload {
  op: number;
  d: any;
  s: number | null;
  t: string | null;
}

export class GatewayClient {
  readonly received: Payload[] = [];
  closed?: { code: number; reason: string };
  private readonly socket: WebSocket;
  private readonly opened: Promise<void>;

  constructor(url: string, options: { compress?: boolean } = {}) {
    const query = `?v=10&encoding=json${options.compress ? "&compress=zlib-stream" : ""}`;
    this.socket = new WebSocket(`${url.replace(/\/$/, "")}/${query}`);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
    });
    if (options.compress) {
      // One inflater for the connection; each binary frame is one Z_SYNC_FLUSHed message.
      const inflate = createInflate();
      let chunks: Buffer[] = [];
      inflate.on("data", (c: Buffer) => chunks.push(c));
      this.socket.on("message", (data: Buffer, isBinary) => {
        if (!isBinary) throw new Error("zlib-stream sent a text frame");
        inflate.write(data);
        inflate.flush(constants.Z_SYNC_FLUSH, () => {
          this.received.push(JSON.parse(Buffer.concat(chunks).toString()));
          chunks = [];
        });
      });
    } else {
      this.socket.on("message", (data: Buffer, isBinary) => {
        if (isBinary) throw new Error("a binary frame without compression");
        this.received.push(JSON.parse(data.toString()));
      });
    }
    this.socket.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  async open(): Promise<this> {
    await this.opened;
    return this;
  }

  send(payload: unknown): void {
    this.socket.send(typeof payload === "string" ? payload : JSON.stringify(payload));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  identify(token: string, intents: number, extra: Record<string, unknown> = {}): void {
    this.send({ op: 2, d: { token, intents, properties: { os: "linux", browser: "chorus-test", device: "chorus-test" }, ...extra } });
  }

  /** The next received payload matching `match` after the first `from` payloads. */
  async next(what: string, match: (p: Payload) => boolean, from = 0, timeoutMs = 15_000): Promise<Payload> {
    return waitFor(what, () => this.received.slice(from).find(match), timeoutMs, 20);
  }

  dispatch(t: string, from = 0): Promise<Payload> {
    return this.next(t, (p) => p.op === 0 && p.t === t, from);
  }

  dispatches(): Payload[] {
    return this.received.filter((p) => p.op === 0);
  }

  async closeCode(timeoutMs = 15_000): Promise<number> {
    return (await waitFor("the gateway to close the connection", () => this.closed, timeoutMs, 20)).code;
  }

  close(code = 1000): void {
    this.socket.close(code);
  }

  terminate(): void {
    this.socket.terminate();
  }
}

/** Identifies and waits for READY (and the GUILD_CREATE of each of its guilds). */
export async function connectSession(url: string, token: string, intents: number, options: { compress?: boolean; extra?: Record<string, unknown> } = {}) {
  const client = await new GatewayClient(url, options).open();
  await client.next("HELLO", (p) => p.op === 10);
  client.identify(token, intents, options.extra);
  const ready = await client.dispatch("READY");
  for (const g of ready.d.guilds as { id: string }[]) await client.next(`GUILD_CREATE ${g.id}`, (p) => p.t === "GUILD_CREATE" && p.d.id === g.id);
  return { client, ready, sessionId: ready.d.session_id as string, userId: ready.d.user.id as string };
}

/** Opens a connection, identifies with `d`-level overrides, and returns the close code. */
export async function identifyCloseCode(url: string, payload: unknown): Promise<number> {
  const client = await new GatewayClient(url).open();
  await client.next("HELLO", (p) => p.op === 10);
  client.send(payload);
  return client.closeCode();
}
