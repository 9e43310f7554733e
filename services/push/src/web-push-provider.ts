import { Agent, request as httpRequest } from "undici";
import webpush from "web-push";
import { retryAfterMs } from "./http2-origin.js";
import { Priority, type PushProvider, type PushRequest, type SendOutcome } from "./push-request.js";

export interface VapidDetails {
  /** A mailto: or https: contact for the push services. */
  subject: string;
  /** Application server keys (P-256, base64url): the public one is what clients subscribe with. */
  publicKey: string;
  privateKey: string;
}

export interface WebPushOptions {
  vapid: VapidDetails;
  /** Connections per push-service origin (HTTP/1.1); with HTTP/2 (negotiated by ALPN) one carries all. */
  connections: number;
  timeoutMs: number;
  /** Sends to plain http:// endpoints too (local test push services); otherwise such a subscription is dropped. */
  allowHttp?: boolean;
  /** The certificates to trust for push services (default: Node's). */
  ca?: string[];
}

/** VAPID JWTs are valid 12 h; one is signed per push-service origin and reused for 6 h. */
const VAPID_LIFETIME_S = 12 * 3600;
const VAPID_REUSE_MS = 6 * 3600 * 1000;

/**
 * Web Push (RFC 8030) with the payload encrypted for the subscription (RFC 8291, aes128gcm)
 * and VAPID (RFC 8292) authorization, by the `web-push` package; sent with undici (HTTP/2
 * where the push service offers it over TLS, else HTTP/1.1). 404 and 410 mean the
 * subscription is gone; 429 and 5xx are retried.
 */
export class WebPushProvider implements PushProvider {
  readonly name = "webpush" as const;
  private readonly agent: Agent;
  private readonly vapidHeaders = new Map<string, { authorization: string; until: number }>();

  constructor(private readonly options: WebPushOptions) {
    this.agent = new Agent({
      allowH2: true,
      connections: options.connections,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
      connect: options.ca ? { ca: options.ca } : undefined,
    });
  }

  private authorization(endpoint: URL): string {
    const audience = endpoint.origin;
    const cached = this.vapidHeaders.get(audience);
    if (cached && Date.now() < cached.until) return cached.authorization;
    const { vapid } = this.options;
    const expiration = Math.floor(Date.now() / 1000) + VAPID_LIFETIME_S;
    const headers = webpush.getVapidHeaders(audience, vapid.subject, vapid.publicKey, vapid.privateKey, "aes128gcm", expiration);
    if (this.vapidHeaders.size > 1000) this.vapidHeaders.clear();
    this.vapidHeaders.set(audience, { authorization: headers.Authorization, until: Date.now() + VAPID_REUSE_MS });
    return headers.Authorization;
  }

  async send(request: PushRequest): Promise<SendOutcome> {
    const { target, content } = request;
    let endpoint: URL;
    try {
      endpoint = new URL(target.token);
    } catch {
      return { status: "gone", reason: "Web Push: the endpoint is not a URL" };
    }
    if (endpoint.protocol !== "https:" && !(endpoint.protocol === "http:" && this.options.allowHttp)) {
      return { status: "gone", reason: `Web Push: ${endpoint.protocol} endpoints are not allowed` };
    }
    if (!target.p256dh || !target.auth) return { status: "gone", reason: "Web Push: the subscription has no keys" };
    const payload = JSON.stringify({ title: content.title, body: content.body, tag: content.tag, data: content.data });
    let cipherText: Buffer;
    try {
      cipherText = webpush.encrypt(target.p256dh, target.auth, payload, "aes128gcm").cipherText;
    } catch (err) {
      // Keys that do not make a P-256 point / a 16-byte secret: the subscription can never work.
      return { status: "gone", reason: `Web Push: bad subscription keys (${err instanceof Error ? err.message : String(err)})` };
    }
    const headers: Record<string, string> = {
      ttl: String(request.ttlSeconds),
      urgency: request.priority === Priority.High ? "high" : "normal",
      "content-encoding": "aes128gcm",
      "content-type": "application/octet-stream",
      authorization: this.authorization(endpoint),
    };
    // Topic: at most 32 base64url characters (RFC 8030 5.4); a later push with it replaces this one.
    if (content.tag && /^[A-Za-z0-9_-]{1,32}$/.test(content.tag)) headers.topic = content.tag;
    const response = await httpRequest(endpoint, { method: "POST", headers, body: cipherText, dispatcher: this.agent });
    const text = await response.body.text();
    const status = response.statusCode;
    if (status >= 200 && status < 300) return { status: "sent" };
    if (status === 404 || status === 410) return { status: "gone", reason: `Web Push ${status}` };
    if (status === 429 || status >= 500) return { status: "retry", reason: `Web Push ${status}`, retryAfterMs: retryAfterMs(response.headers["retry-after"]) };
    return { status: "failed", reason: `Web Push ${status} ${text.slice(0, 200)}` };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
