// A person's gateway session for the tests: identifies, heartbeats, and records every
// dispatch so a test can wait for one (or check that none came).
import WebSocket from "ws";
import { waitFor } from "@chorus/testing";

export interface Dispatch {
  t: string;
  d: any;
}

export class GatewayListener {
  readonly dispatches: Dispatch[] = [];
  /** The close code, once the gateway closed the connection. */
  closed?: number;
  private heartbeat?: NodeJS.Timeout;

  private constructor(private readonly socket: WebSocket) {}

  static async connect(url: string, token: string, intents: number): Promise<GatewayListener> {
    const socket = new WebSocket(`${url.replace(/\/$/, "")}/?v=10&encoding=json`);
    const listener = new GatewayListener(socket);
    socket.on("message", (raw: Buffer) => {
      const payload = JSON.parse(raw.toString());
      // Heartbeats at half the interval: a loaded test machine must not let the session time out.
      if (payload.op === 10) {
        listener.heartbeat = setInterval(() => socket.send(JSON.stringify({ op: 1, d: null })), payload.d.heartbeat_interval / 2);
        listener.heartbeat.unref();
        socket.send(JSON.stringify({ op: 2, d: { token, intents, properties: { os: "linux", browser: "chorus-test", device: "chorus-test" } } }));
      }
      if (payload.op === 0) listener.dispatches.push({ t: payload.t, d: payload.d });
    });
    socket.on("error", () => {});
    socket.on("close", (code) => {
      listener.closed = code;
      clearInterval(listener.heartbeat);
    });
    await listener.next("READY", (d) => d.t === "READY");
    return listener;
  }

  /** The first dispatch (seen or to come) that `match` accepts. */
  next(what: string, match: (d: Dispatch) => boolean, timeoutMs = 15_000): Promise<Dispatch> {
    return waitFor(what, () => {
      const found = this.dispatches.find(match);
      if (!found && this.closed !== undefined) throw new Error(`the gateway closed the session (${this.closed}) before ${what}`);
      return found;
    }, timeoutMs);
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.socket.close(1000);
  }
}
