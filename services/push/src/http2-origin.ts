import { performance } from "node:perf_hooks";
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { NativeHttp2Origin } from "./native-http2-origin.js";

export interface Http2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Http2OriginOptions {
  /** Per-request deadline. */
  timeoutMs: number;
  /** Trusted roots in PEM, replacing the default ones (a private CA for a test endpoint...). `http://` origins use h2c. */
  ca?: string[];
  /** The HTTP/2 client: the native addon (services/push/native, the default) or node:http2. */
  client?: Http2ClientKind;
  /** Threads of the native client's runtime (the process's first origin sets it). */
  nativeThreads?: number;
}

export type Http2ClientKind = "native" | "node";

/** One provider origin as the providers use it, whichever client carries it. */
export interface Http2Connection {
  request(headers: OutgoingHttpHeaders, body?: string | Uint8Array): Promise<Http2Response>;
  close(): void;
}

/** Opens a provider origin over the client the options name. */
export function openHttp2Origin(origin: string, options: Http2OriginOptions): Http2Connection {
  if ((options.client ?? "native") === "native") return new NativeHttp2Origin(origin, { timeoutMs: options.timeoutMs, ca: options.ca, threads: options.nativeThreads });
  return new Http2Origin(origin, options);
}

/**
 * One HTTP/2 connection to a provider's origin (FCM, APNs) over node:http2: every request is a stream on it.
 * The connection is opened on first use and again after the server closed it (GOAWAY, idle
 * timeout, error); requests in flight on a dying connection fail and are retried by the sink.
 */
export class Http2Origin implements Http2Connection {
  private session?: ClientHttp2Session;
  /** Requests in flight by start time (insertion order), for one sweep of deadlines instead of a timer each. */
  private readonly pending = new Map<ClientHttp2Stream, { startedAt: number; fail: (err: Error) => void }>();
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly origin: string,
    private readonly options: Http2OriginOptions,
  ) {}

  private sweep(): void {
    const expired = performance.now() - this.options.timeoutMs;
    for (const [stream, entry] of this.pending) {
      if (entry.startedAt > expired) break;
      this.pending.delete(stream);
      stream.close(http2.constants.NGHTTP2_CANCEL);
      entry.fail(new Error(`no answer from ${this.origin} within ${this.options.timeoutMs} ms`));
    }
    if (this.pending.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private connect(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(this.origin, this.options.ca ? { ca: this.options.ca } : {});
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on("goaway", forget);
    session.on("close", forget);
    // Errors reach the streams in flight; the session is dropped and made anew on next use.
    session.on("error", forget);
    session.unref();
    this.session = session;
    return session;
  }

  request(headers: OutgoingHttpHeaders, body?: string | Uint8Array): Promise<Http2Response> {
    return new Promise((resolve, reject) => {
      let stream: ClientHttp2Stream;
      try {
        stream = this.connect().request(headers, { endStream: body === undefined });
      } catch (err) {
        this.session = undefined;
        reject(err);
        return;
      }
      const chunks: Buffer[] = [];
      let responseHeaders: IncomingHttpHeaders = {};
      this.pending.set(stream, { startedAt: performance.now(), fail: reject });
      this.sweeper ??= setInterval(() => this.sweep(), Math.min(1000, this.options.timeoutMs)).unref();
      stream.on("response", (h) => (responseHeaders = h));
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        this.pending.delete(stream);
        resolve({ status: Number(responseHeaders[":status"] ?? 0), headers: responseHeaders, body: chunks.length === 0 ? "" : chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8") });
      });
      stream.on("error", (err) => {
        this.pending.delete(stream);
        reject(err);
      });
      if (body !== undefined) stream.end(body);
    });
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.session?.close();
    this.session = undefined;
  }
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === "") return undefined;
  if (/^\s*\d+\s*$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
