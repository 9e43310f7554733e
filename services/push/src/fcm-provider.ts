import { openHttp2Origin, retryAfterMs, type Http2Connection, type Http2OriginOptions } from "./http2-origin.js";
import type { GoogleAccessTokens } from "./provider-credentials.js";
import { Priority, type PushProvider, type PushRequest, type SendOutcome } from "./push-request.js";

export const FCM_ENDPOINT = "https://fcm.googleapis.com";

export interface FcmOptions extends Http2OriginOptions {
  projectId: string;
  /** Origin of the FCM HTTP v1 API (a local endpoint in tests and benchmarks). */
  endpoint: string;
  tokens: GoogleAccessTokens;
}

interface FcmErrorBody {
  error?: { code?: number; status?: string; message?: string; details?: { "@type"?: string; errorCode?: string }[] };
}

/** The FcmError code of an error answer (UNREGISTERED, QUOTA_EXCEEDED...), else its status. */
function fcmErrorCode(body: string): string {
  try {
    const parsed = JSON.parse(body) as FcmErrorBody;
    const detail = parsed.error?.details?.find((d) => d["@type"]?.endsWith("google.firebase.fcm.v1.FcmError"));
    return detail?.errorCode ?? parsed.error?.status ?? "";
  } catch {
    return "";
  }
}

/**
 * FCM HTTP v1 (`POST /v1/projects/<project>/messages:send`) over one HTTP/2 connection, with
 * the service account's OAuth bearer token. UNREGISTERED (404) and SENDER_ID_MISMATCH (403:
 * the token belongs to another project) mean the device is gone; 429 and 5xx are retried
 * (Retry-After honoured by the sink); a 401 drops the access token and retries with a new one.
 */
export class FcmProvider implements PushProvider {
  readonly name = "fcm" as const;
  private readonly origin: Http2Connection;
  private readonly path: string;

  constructor(private readonly options: FcmOptions) {
    this.origin = openHttp2Origin(options.endpoint, options);
    this.path = `/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`;
  }

  async send(request: PushRequest): Promise<SendOutcome> {
    const token = this.options.tokens.ready() ?? (await this.options.tokens.get());
    const { content } = request;
    const body = JSON.stringify({
      message: {
        token: request.target.token,
        notification: { title: content.title, body: content.body },
        data: content.data,
        android: {
          priority: request.priority === Priority.High ? "HIGH" : "NORMAL",
          ttl: `${request.ttlSeconds}s`,
          ...(content.tag ? { collapse_key: content.tag, notification: { tag: content.tag } } : {}),
        },
      },
    });
    const response = await this.origin.request(
      { ":method": "POST", ":path": this.path, authorization: `Bearer ${token}`, "content-type": "application/json; charset=utf-8" },
      body,
    );
    const status = response.status;
    if (status === 200) return { status: "sent" };
    const code = fcmErrorCode(response.body);
    if (status === 404 || code === "UNREGISTERED") return { status: "gone", reason: `FCM ${status} ${code || "NOT_FOUND"}` };
    if (code === "SENDER_ID_MISMATCH") return { status: "gone", reason: `FCM ${status} ${code}` };
    if (status === 401) {
      this.options.tokens.invalidate(token);
      return { status: "retry", reason: "FCM 401: access token refused" };
    }
    if (status === 429 || status >= 500) return { status: "retry", reason: `FCM ${status} ${code}`, retryAfterMs: retryAfterMs(response.headers["retry-after"]) };
    return { status: "failed", reason: `FCM ${status} ${code} ${response.body.slice(0, 200)}` };
  }

  async close(): Promise<void> {
    this.origin.close();
  }
}
