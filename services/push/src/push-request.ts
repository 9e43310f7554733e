import type { SourceItem } from "./push-source.js";

/** Priority 0 is shed last: DMs and direct mentions. Everything else is LOW. */
export enum Priority {
  High = 0,
  Low = 1,
}
export const PRIORITY_COUNT = 2;
export const priorityName = (p: number): string => (p === Priority.High ? "high" : "low");

export type ProviderName = "webpush" | "fcm" | "apns";
export const PROVIDERS: readonly ProviderName[] = ["webpush", "fcm", "apns"];

/** One device of a user, as the providers need it. */
export interface PushTarget {
  userId: bigint;
  /** Storage id of the device (removed when the provider says it is gone). */
  deviceId: string;
  /** FCM registration token, APNs device token (hex), or the Web Push subscription endpoint. */
  token: string;
  /** Web Push only: the subscription's keys (base64url). */
  p256dh?: string;
  auth?: string;
}

/** What the user sees, and the data a client needs to open the right channel. */
export interface PushContent {
  title: string;
  body: string;
  /** String key/values for the app (channel_id, guild_id, message_id...). */
  data: Record<string, string>;
  /** Replaces an earlier notification with the same tag on the device (e.g. per channel). */
  tag?: string;
}

/** One push to one device: what flows from the source to a sink. */
export interface PushRequest extends SourceItem {
  readonly lane: ProviderName;
  readonly priority: Priority;
  readonly target: PushTarget;
  readonly content: PushContent;
  /** performance.now() when the push service accepted it (latency histogram). */
  readonly acceptedAt: number;
  /** Seconds the provider may keep it for an offline device. */
  readonly ttlSeconds: number;
}

/** What a provider made of one attempt. */
export type SendOutcome =
  | { status: "sent" }
  /** The device no longer exists (404/410, UNREGISTERED, BadDeviceToken...): remove it. */
  | { status: "gone"; reason: string }
  /** Worth another try later (429, 5xx, connection lost); `retryAfterMs` from Retry-After. */
  | { status: "retry"; reason: string; retryAfterMs?: number }
  /** Will never work as it is (bad request, bad credentials). */
  | { status: "failed"; reason: string };

/** One provider connection: a sink owns one and keeps at most its limit of sends in flight. */
export interface PushProvider {
  readonly name: ProviderName;
  send(request: PushRequest): Promise<SendOutcome>;
  close(): Promise<void>;
}
