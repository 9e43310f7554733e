import { openHttp2Origin, retryAfterMs, type Http2Connection, type Http2OriginOptions } from "./http2-origin.js";
import type { ApnsProviderToken } from "./provider-credentials.js";
import { Priority, type PushProvider, type PushRequest, type SendOutcome } from "./push-request.js";

export const APNS_ENDPOINT = "https://api.push.apple.com";
export const APNS_SANDBOX_ENDPOINT = "https://api.sandbox.push.apple.com";

export interface ApnsOptions extends Http2OriginOptions {
  /** Origin of the APNs provider API (production, sandbox, or a local endpoint). */
  endpoint: string;
  /** The app's bundle id (apns-topic). */
  topic: string;
  tokens: ApnsProviderToken;
}

/** Reasons APNs gives for a token that will never work again. */
const DEAD_TOKEN_REASONS = new Set(["BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic", "ExpiredToken"]);

function apnsReason(body: string): string {
  try {
    return (JSON.parse(body) as { reason?: string }).reason ?? "";
  } catch {
    return "";
  }
}

/**
 * APNs provider API (`POST /3/device/<token>`) over one HTTP/2 connection with a token-based
 * (ES256 JWT) authorization. 410 Unregistered and 400 BadDeviceToken / DeviceTokenNotForTopic
 * mean the device is gone; 429 and 5xx are retried; 403 ExpiredProviderToken or
 * InvalidProviderToken drops the JWT and retries with a new one.
 */
export class ApnsProvider implements PushProvider {
  readonly name = "apns" as const;
  private readonly origin: Http2Connection;

  constructor(private readonly options: ApnsOptions) {
    this.origin = openHttp2Origin(options.endpoint, options);
  }

  async send(request: PushRequest): Promise<SendOutcome> {
    const jwt = await this.options.tokens.get();
    const { content } = request;
    const body = JSON.stringify({
      aps: { alert: { title: content.title, body: content.body }, sound: "default", ...(content.tag ? { "thread-id": content.tag } : {}) },
      ...content.data,
    });
    const headers: Record<string, string> = {
      ":method": "POST",
      ":path": `/3/device/${encodeURIComponent(request.target.token)}`,
      authorization: `bearer ${jwt}`,
      "apns-topic": this.options.topic,
      "apns-push-type": "alert",
      "apns-priority": request.priority === Priority.High ? "10" : "5",
      "apns-expiration": String(Math.floor(Date.now() / 1000) + request.ttlSeconds),
      "content-type": "application/json",
    };
    if (content.tag && Buffer.byteLength(content.tag) <= 64) headers["apns-collapse-id"] = content.tag;
    const response = await this.origin.request(headers, body);
    const status = response.status;
    if (status === 200) return { status: "sent" };
    const reason = apnsReason(response.body);
    if (status === 410 || DEAD_TOKEN_REASONS.has(reason)) return { status: "gone", reason: `APNs ${status} ${reason}` };
    if (status === 403 && (reason === "ExpiredProviderToken" || reason === "InvalidProviderToken")) {
      this.options.tokens.invalidate(jwt);
      return { status: "retry", reason: `APNs 403 ${reason}` };
    }
    if (status === 429 || status >= 500) return { status: "retry", reason: `APNs ${status} ${reason}`, retryAfterMs: retryAfterMs(response.headers["retry-after"]) };
    return { status: "failed", reason: `APNs ${status} ${reason}` };
  }

  async close(): Promise<void> {
    this.origin.close();
  }
}
