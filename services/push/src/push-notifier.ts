import { performance } from "node:perf_hooks";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeviceKind, type NotificationSettings } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { PushReason, type NotifyRequest } from "@chorus/contracts/chorus/push/v1/push_pb";
import { DeviceStorageService } from "@chorus/contracts/chorus/storage/v1/devices_pb";
import type { Logger, MeshClients } from "@chorus/mesh";
import { allowedBySettings, priorityOf } from "./notification-rules.js";
import { pushMetrics } from "./push-metrics.js";
import type { PushPipeline } from "./push-pipeline.js";
import type { ProviderName, PushContent, PushRequest } from "./push-request.js";

export const MAX_RECIPIENTS = 1000;
const MAX_BODY = 500;

const LANE_OF: Partial<Record<DeviceKind, ProviderName>> = {
  [DeviceKind.WEB_PUSH]: "webpush",
  [DeviceKind.FCM]: "fcm",
  [DeviceKind.APNS]: "apns",
};

/** Which of some users have a live gateway session (the gateways' session directory). */
export type OnlineCheck = (userIds: readonly bigint[]) => Promise<Set<bigint>>;

export interface PushNotifierOptions {
  pipeline: PushPipeline;
  clients: MeshClients;
  online: OnlineCheck;
  ttlSeconds: number;
  /** Notify calls resolving at once; more are refused. */
  maxResolving: number;
  logger: Logger;
  /** Gone devices are removed through this (tests may watch it). */
  onRemoved?: (userId: bigint, deviceId: string) => void;
}

/**
 * Turns a Notify call into pushes: drops the recipients their settings silence (and, when the
 * caller could not tell, those online), reads the devices of the rest, and offers one push per
 * device to the pipeline. It holds no push itself: what the pipeline cannot take is shed there.
 * Devices their provider calls gone are deleted from storage.
 */
export class PushNotifier {
  private resolving = 0;

  constructor(private readonly options: PushNotifierOptions) {}

  private storage() {
    return this.options.clients.client(DeviceStorageService);
  }

  async notify(request: NotifyRequest): Promise<number> {
    const message = request.message;
    if (!message) throw new ConnectError("message: required", Code.InvalidArgument);
    if (message.channelId === 0n) throw new ConnectError("message.channel_id: required", Code.InvalidArgument);
    if (request.recipients.length > MAX_RECIPIENTS) throw new ConnectError(`recipients: at most ${MAX_RECIPIENTS}`, Code.InvalidArgument);
    if (this.resolving >= this.options.maxResolving) {
      pushMetrics.notified.inc({ result: "refused" }, request.recipients.length);
      throw new ConnectError("push: too many notifications being resolved; shed", Code.ResourceExhausted);
    }
    this.resolving++;
    try {
      return await this.resolve(request);
    } finally {
      this.resolving--;
    }
  }

  private async resolve(request: NotifyRequest): Promise<number> {
    const acceptedAt = performance.now();
    const message = request.message!;
    // One reason per user: the most important one.
    const reasons = new Map<bigint, PushReason>();
    for (const r of request.recipients) {
      if (r.userId === 0n || r.userId === message.authorId || r.reason === PushReason.UNSPECIFIED) continue;
      const before = reasons.get(r.userId);
      if (before === undefined || priorityOf(r.reason) < priorityOf(before)) reasons.set(r.userId, r.reason);
    }
    if (reasons.size === 0) return 0;
    if (request.checkSessions) {
      for (const userId of await this.options.online([...reasons.keys()])) {
        reasons.delete(userId);
        pushMetrics.notified.inc({ result: "online" });
      }
      if (reasons.size === 0) return 0;
    }
    const users = [...reasons.keys()];
    const { settings } = await this.storage().listNotificationSettings({ guildId: message.guildId, userIds: users });
    const byUser = new Map<bigint, NotificationSettings>(settings.map((s) => [s.userId, s]));
    for (const userId of users) {
      if (!allowedBySettings(reasons.get(userId)!, byUser.get(userId), message.channelId, message.defaultMessageNotifications)) {
        reasons.delete(userId);
        pushMetrics.notified.inc({ result: "muted" });
      }
    }
    if (reasons.size === 0) return 0;
    const { devices } = await this.storage().listDevices({ userIds: [...reasons.keys()] });
    const content: PushContent = {
      title: message.title,
      body: message.body.length > MAX_BODY ? `${message.body.slice(0, MAX_BODY - 1)}…` : message.body,
      data: {
        channel_id: String(message.channelId),
        message_id: String(message.messageId),
        author_id: String(message.authorId),
        ...(message.guildId !== 0n ? { guild_id: String(message.guildId) } : {}),
      },
      tag: `c${message.channelId}`,
    };
    let queued = 0;
    const withDevices = new Set<bigint>();
    for (const device of devices) {
      const lane = LANE_OF[device.kind];
      const reason = reasons.get(device.userId);
      if (!lane || reason === undefined) continue;
      withDevices.add(device.userId);
      const push: PushRequest = {
        lane,
        priority: priorityOf(reason),
        target: { userId: device.userId, deviceId: device.id, token: device.token, p256dh: device.p256dh, auth: device.auth },
        content: { ...content, data: { ...content.data, reason: PushReason[reason].toLowerCase() } },
        acceptedAt,
        ttlSeconds: this.options.ttlSeconds,
      };
      if (this.options.pipeline.submit(push)) queued++;
    }
    pushMetrics.notified.inc({ result: "queued" }, withDevices.size);
    pushMetrics.notified.inc({ result: "no_devices" }, reasons.size - withDevices.size);
    return queued;
  }

  /** Deletes a device its provider says no longer exists. */
  removeDevice(request: PushRequest, reason: string): void {
    const { userId, deviceId } = request.target;
    pushMetrics.devicesRemoved.inc({ provider: request.lane });
    this.options.logger.info({ user: String(userId), device: deviceId, provider: request.lane, reason }, "push: removing a dead device");
    this.options.clients
      .client(DeviceStorageService, userId)
      .deleteDevice({ userId, deviceId })
      .then(() => this.options.onRemoved?.(userId, deviceId))
      .catch((err) => this.options.logger.warn({ err, device: deviceId }, "push: could not remove a dead device"));
  }
}
