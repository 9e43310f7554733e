import type { IncomingMessage } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "@chorus/mesh";
import { CloseCode } from "./gateway-protocol.js";
import { GatewayConnection, type GatewayContext } from "./gateway-connection.js";

export interface GatewaySocketsOptions {
  host: string;
  port: number;
  logger: Logger;
}

/** Query parameters of the gateway URL (`?v=10&encoding=json&compress=zlib-stream`). */
export function connectionParams(url: string | undefined): { compress: boolean; refusal?: { code: number; reason: string } } {
  const query = new URL(url ?? "/", "ws://gateway").searchParams;
  const version = query.get("v");
  if (version !== null && version !== "10") return { compress: false, refusal: { code: CloseCode.InvalidApiVersion, reason: "Invalid API version." } };
  const encoding = query.get("encoding");
  if (encoding !== null && encoding !== "json") return { compress: false, refusal: { code: CloseCode.DecodeError, reason: "Only JSON encoding is supported." } };
  const compress = query.get("compress");
  if (compress !== null && compress !== "zlib-stream") return { compress: false, refusal: { code: CloseCode.DecodeError, reason: "Only zlib-stream compression is supported." } };
  return { compress: compress === "zlib-stream" };
}

/** The WebSocket listener: one GatewayConnection per client, and the drain on shutdown. */
export class GatewaySockets {
  private server?: WebSocketServer;
  private readonly connections = new Set<GatewayConnection>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly options: GatewaySocketsOptions) {}

  get openConnections(): number {
    return this.connections.size;
  }

  async listen(context: Omit<GatewayContext, "track">): Promise<number> {
    // Discord refuses client payloads over 4096 bytes (4002); ws drops far larger frames itself.
    const server = new WebSocketServer({ host: this.options.host, port: this.options.port, maxPayload: 64 * 1024 });
    this.server = server;
    const ctx: GatewayContext = { ...context, track: (work) => this.track(work) };
    server.on("connection", (socket: WebSocket, request: IncomingMessage) => {
      const params = connectionParams(request.url);
      if (params.refusal) {
        socket.close(params.refusal.code, params.refusal.reason);
        return;
      }
      const connection = new GatewayConnection(socket, params.compress, ctx, request.socket);
      this.connections.add(connection);
      socket.once("close", () => this.connections.delete(connection));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    return (server.address() as { port: number }).port;
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch(() => {}).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /**
   * Drain: no new connections; every client is told to RECONNECT (op 7) and resume on another
   * node, and closed after `graceMs` if it does not go; resolves once their sessions are
   * detached in the store.
   */
  async drain(graceMs = 1000): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await Promise.all([...this.connections].map((c) => c.reconnect(graceMs)));
    await Promise.all([...this.pending]);
    await closed;
  }
}
