import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "@chorus/mesh";
import { CloseCode, MAX_PAYLOAD_BYTES, Op, parsePayload } from "./gateway-protocol.js";

export interface GatewaySocketsOptions {
  host: string;
  port: number;
  heartbeatIntervalMs: number;
  logger: Logger;
}

/**
 * The WebSocket side of the gateway: HELLO, heartbeats with zombie detection, and Discord's
 * close codes for malformed input. IDENTIFY is refused with 4004 until accounts exist
 * (issue: accounts and guilds); sessions and dispatch come with the message pipeline.
 */
export class GatewaySockets {
  private server?: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();

  constructor(private readonly options: GatewaySocketsOptions) {}

  get openSessions(): number {
    return this.sockets.size;
  }

  async listen(): Promise<number> {
    const server = new WebSocketServer({ host: this.options.host, port: this.options.port, maxPayload: 1 << 20 });
    this.server = server;
    server.on("connection", (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    return (server.address() as { port: number }).port;
  }

  private accept(socket: WebSocket): void {
    this.sockets.add(socket);
    let lastBeat = Date.now();
    const send = (payload: object) => socket.send(JSON.stringify(payload));
    // A client that misses a heartbeat interval plus grace is a zombie: drop it.
    const zombieCheck = setInterval(() => {
      if (Date.now() - lastBeat > this.options.heartbeatIntervalMs * 1.5) socket.close(CloseCode.SessionTimedOut, "Session timed out");
    }, this.options.heartbeatIntervalMs);
    socket.on("close", () => {
      clearInterval(zombieCheck);
      this.sockets.delete(socket);
    });
    socket.on("message", (data, isBinary) => {
      const text = isBinary ? undefined : data.toString();
      if (text === undefined || Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
        socket.close(CloseCode.DecodeError, "Error while decoding payload.");
        return;
      }
      const payload = parsePayload(text);
      if (!payload) {
        socket.close(CloseCode.DecodeError, "Error while decoding payload.");
        return;
      }
      switch (payload.op) {
        case Op.Heartbeat:
          lastBeat = Date.now();
          send({ op: Op.HeartbeatAck });
          break;
        case Op.Identify:
          socket.close(CloseCode.AuthenticationFailed, "Authentication failed.");
          break;
        default:
          socket.close(CloseCode.UnknownOpcode, "Unknown opcode.");
      }
    });
    send({ op: Op.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs }, s: null, t: null });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.close(1001, "Going away");
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
