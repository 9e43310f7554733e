import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type SecureClientSessionOptions } from "node:http2";

export interface Http2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Http2OriginOptions {
  /** Per-request deadline. */
  timeoutMs: number;
  /** Extra TLS settings (a private CA for a test endpoint...). `http://` origins use h2c. */
  tls?: SecureClientSessionOptions;
}

/**
 * One HTTP/2 connection to a provider's origin (FCM, APNs): every request is a stream on it.
 * The connection is opened on first use and again after the server closed it (GOAWAY, idle
 * timeout, error); requests in flight on a dying connection fail and are retried by the sink.
 */
export class Http2Origin {
  private session?: ClientHttp2Session;

  constructor(
    private readonly origin: string,
    private readonly options: Http2OriginOptions,
  ) {}

  private connect(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(this.origin, this.options.tls ?? {});
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
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.connect().request(headers, { endStream: body === undefined });
      } catch (err) {
        this.session = undefined;
        reject(err);
        return;
      }
      const chunks: Buffer[] = [];
      let responseHeaders: IncomingHttpHeaders = {};
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`no answer from ${this.origin} within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      stream.on("response", (h) => (responseHeaders = h));
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        clearTimeout(timer);
        resolve({ status: Number(responseHeaders[":status"] ?? 0), headers: responseHeaders, body: Buffer.concat(chunks).toString("utf8") });
      });
      stream.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      if (body !== undefined) stream.end(body);
    });
  }

  close(): void {
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
