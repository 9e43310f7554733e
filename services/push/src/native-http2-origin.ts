import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import type { Http2Connection, Http2Response } from "./http2-origin.js";

/** Where `scripts/setup.mjs` puts the addon built from `services/push/native` (cargo). */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL("../../native/build/chorus_push_h2.node", import.meta.url));

interface NativeOrigin {
  submit(batch: string): void;
  close(): void;
}

interface NativeAddon {
  NativeHttp2Origin: new (origin: string, timeoutMs: number, ca: string[] | null, threads: number, onAnswers: (answers: (number | string)[]) => void) => NativeOrigin;
}

let addon: NativeAddon | undefined;

/** The addon, loaded once; a clear error when it was not built. */
export function nativeHttp2(): NativeAddon {
  if (addon) return addon;
  if (!existsSync(NATIVE_ADDON_PATH)) {
    throw new Error(
      `CHORUS_PUSH_HTTP2_CLIENT=native: ${NATIVE_ADDON_PATH} is not built (\`node scripts/setup.mjs\` builds it with Rust's cargo); or set CHORUS_PUSH_HTTP2_CLIENT=node`,
    );
  }
  addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
  return addon;
}

export interface NativeHttp2OriginOptions {
  timeoutMs: number;
  /** Trusted roots in PEM, replacing the default ones (as Node's `ca` does). */
  ca?: string[];
  /** Threads of the addon's runtime, shared by every origin of the process (the first origin sets it). */
  threads?: number;
}

interface Waiting {
  resolve: (response: Http2Response) => void;
  reject: (err: Error) => void;
}

/** `name: value` lines as Node's header object (repeated names joined as Node does for most). */
function parseHead(head: string): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(": ");
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 2);
    const seen = headers[name];
    headers[name] = seen === undefined ? value : `${String(seen)}, ${value}`;
  }
  return headers;
}

/**
 * One provider origin over the native HTTP/2 client (services/push/native): the same contract
 * as `Http2Origin`, at a fraction of node:http2's CPU per request. The requests of one turn of
 * the event loop cross to the addon as one string, and the answers come back in batches.
 */
export class NativeHttp2Origin implements Http2Connection {
  private readonly native: NativeOrigin;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private batch: string[] = [];
  private flushing = false;

  constructor(origin: string, options: NativeHttp2OriginOptions) {
    const { NativeHttp2Origin: Native } = nativeHttp2();
    this.native = new Native(origin, options.timeoutMs, options.ca ?? null, options.threads ?? 1, (answers) => this.answered(answers));
  }

  private answered(answers: (number | string)[]): void {
    for (let i = 0; i < answers.length; i += 4) {
      const id = answers[i] as number;
      const waiting = this.waiting.get(id);
      if (!waiting) continue;
      this.waiting.delete(id);
      const status = answers[i + 1] as number;
      if (status === 0) waiting.reject(new Error(answers[i + 3] as string));
      else {
        // Headers are read only for retries (Retry-After): parsed when asked for, not per push.
        const head = answers[i + 2] as string;
        waiting.resolve({
          status,
          body: answers[i + 3] as string,
          get headers() {
            return parseHead(head);
          },
        });
      }
    }
  }

  private readonly flush = (): void => {
    this.flushing = false;
    const batch = this.batch;
    this.batch = [];
    this.native.submit(batch.join("\x01"));
  };

  request(headers: OutgoingHttpHeaders, body?: string | Uint8Array): Promise<Http2Response> {
    // A record is NUL-separated fields; records are separated by U+0001, which neither header
    // values nor JSON text carry raw.
    const text = body === undefined ? "" : typeof body === "string" ? body : Buffer.from(body).toString("utf8");
    let fields = "";
    let count = 0;
    for (const name in headers) {
      if (name[0] === ":") continue;
      const value = headers[name];
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [String(value)];
      for (const v of values) {
        if (/[\0\x01\r\n]/.test(v)) return Promise.reject(new TypeError(`header ${name}: invalid characters`));
        fields += `\0${name}\0${v}`;
        count++;
      }
    }
    if (text.includes("\x01")) return Promise.reject(new TypeError("body: U+0001 cannot be sent through the native client"));
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const id = this.nextId;
    const method = String(headers[":method"] ?? "GET");
    const path = String(headers[":path"] ?? "/");
    this.batch.push(`${id}\0${method}\0${path}\0${count}${fields}\0${text}`);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(this.flush);
    }
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  close(): void {
    this.native.close();
  }
}
