import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";

type NodeHandlerFn = NonNullable<Parameters<typeof connectNodeAdapter>[0]["fallback"]>;
import type { Logger } from "pino";

/** Plain HTTP routes served beside the RPCs (e.g. /metrics); return false to fall through. */
export type HttpRoute = (...args: Parameters<NodeHandlerFn>) => boolean | Promise<boolean>;

export interface MeshServerOptions {
  host: string;
  port: number;
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  http?: HttpRoute;
  logger: Logger;
}

export interface MeshServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then closes the rest. */
  close(graceMs?: number): Promise<void>;
}

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * One port, every protocol: gRPC, gRPC-Web and Connect over HTTP/2 without TLS (h2c with prior
 * knowledge, as inside the mesh), and over HTTP/1.1 for browsers' gRPC-Web/Connect and for
 * Prometheus scraping /metrics. The first bytes of each connection tell the two apart.
 */
export async function startMeshServer(options: MeshServerOptions): Promise<MeshServer> {
  const adapter = connectNodeAdapter({
    routes: options.routes,
    interceptors: options.interceptors,
    // Compressing replies costs CPU on every call and buys nothing on a datacenter network;
    // compressed requests are still accepted.
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    fallback: (req, res) => {
      void (async () => {
        if (options.http && (await options.http(req, res))) return;
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "not found", path: req.url }));
      })().catch((err) => {
        options.logger.error({ err }, "http route failed");
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    },
  });
  // A busy peer multiplexes many calls on one session: room for them instead of Node's 10 MB
  // default, past which the session refuses streams and fails every call in flight.
  const h2 = http2.createServer({ maxSessionMemory: 64 }, adapter);
  const h1 = http.createServer(adapter);
  h1.keepAliveTimeout = 65_000;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // Peek at the first bytes without consuming them: read what is buffered, decide, put it back.
    const onReadable = () => {
      const seen = socket.read() as Buffer | null;
      if (!seen) return;
      const n = Math.min(seen.length, H2_PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      socket.unshift(seen);
      if (isH2 && seen.length < H2_PREFACE.length) return; // wait for the rest of the preface
      socket.off("readable", onReadable);
      (isH2 ? h2 : h1).emit("connection", socket);
    };
    socket.on("readable", onReadable);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;

  return {
    host: options.host,
    port: address.port,
    async close(graceMs = 2000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      h2.close();
      h1.close();
      h1.closeIdleConnections();
      const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}
