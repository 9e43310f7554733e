import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { z } from "zod";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import type { MeshClients } from "@chorus/mesh";
import { DeviceKind, NotificationSettingsSchema, type Device, type NotificationSettings } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { DeviceStorageService } from "@chorus/contracts/chorus/storage/v1/devices_pb";
import { PushService } from "@chorus/contracts/chorus/push/v1/push_pb";
import { GuildNotificationService } from "@chorus/contracts/chorus/guild/v1/guild_notifications_pb";
import { fromGuildServiceError, GuildRequestError } from "../guilds/guild-errors.js";
import { Code } from "@connectrpc/connect";
import { RequestRefusedError } from "../accounts/account-errors.js";
import { validate } from "../accounts/account-rules.js";
import { requirePerson, type Session } from "../accounts/accounts.js";

/** What a client sends to register a device, on either surface. */
export interface DeviceRegistration {
  kind: DeviceKind;
  token: string;
  p256dh?: string;
  auth?: string;
  name?: string;
}

const base64urlBytes = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, `must be base64url (${what})`)
    .refine((s) => Buffer.from(s, "base64url").length === bytes, `must decode to ${bytes} bytes (${what})`);

const webPushSchema = z.object({
  kind: z.literal(DeviceKind.WEB_PUSH),
  // Push goes only to http(s) endpoints; the push service refuses plain http unless it is configured to allow it.
  token: z.url({ protocol: /^https?$/, error: "must be the subscription's http(s) endpoint URL" }).max(2048),
  p256dh: base64urlBytes(65, "the subscription's P-256 public key"),
  auth: base64urlBytes(16, "the subscription's auth secret"),
  name: z.string().max(100).optional(),
});
const fcmSchema = z.object({
  kind: z.literal(DeviceKind.FCM),
  token: z.string().regex(/^[\x21-\x7e]{1,4096}$/, "must be an FCM registration token (1-4096 printable characters)"),
  name: z.string().max(100).optional(),
});
const apnsSchema = z.object({
  kind: z.literal(DeviceKind.APNS),
  token: z.string().regex(/^[0-9a-fA-F]{64,200}$/, "must be an APNs device token (hex)"),
  name: z.string().max(100).optional(),
});
const registrationSchema = z.discriminatedUnion("kind", [webPushSchema, fcmSchema, apnsSchema], { error: "must be WEB_PUSH, FCM or APNS" });

/** A device's id: the same subscription or token always makes the same id, whoever registers it. */
export function deviceIdOf(kind: DeviceKind, token: string): string {
  return createHash("sha256").update(`${kind}:${token}`).digest("base64url").slice(0, 22);
}

const unknownDevice = () => new RequestRefusedError("not_found", RESTJSONErrorCodes.GeneralError, "Unknown Device", "device_id");

/** Discord's message_notifications values: 0 all, 1 only mentions, 2 nothing, 3 the guild's default. */
export const NOTIFY_DEFAULT = 3;

/** A user's push devices and notification settings, stored through the storage service. */
export class Notifications {
  constructor(private readonly clients: MeshClients) {}

  private storage(userId: bigint) {
    return this.clients.client(DeviceStorageService, userId);
  }

  /** The VAPID public key of the push service ("" when none runs or it sends no Web Push). */
  async webPushPublicKey(): Promise<string> {
    try {
      return (await this.clients.client(PushService).getStatus({}, { timeoutMs: 2000 })).webPushPublicKey;
    } catch {
      return "";
    }
  }

  async register(session: Session, registration: DeviceRegistration): Promise<Device> {
    requirePerson(session);
    const valid = validate(registrationSchema, registration);
    const device = {
      id: deviceIdOf(valid.kind, valid.token),
      userId: session.userId,
      kind: valid.kind,
      token: valid.token,
      p256dh: "p256dh" in valid ? valid.p256dh : "",
      auth: "auth" in valid ? valid.auth : "",
      name: valid.name ?? "",
    };
    const { device: stored } = await this.storage(session.userId).putDevice({ device });
    return stored!;
  }

  async list(session: Session): Promise<Device[]> {
    requirePerson(session);
    return (await this.storage(session.userId).listDevices({ userIds: [session.userId] })).devices;
  }

  async remove(session: Session, deviceId: string): Promise<void> {
    requirePerson(session);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(deviceId)) throw unknownDevice();
    const { deleted } = await this.storage(session.userId).deleteDevice({ userId: session.userId, deviceId });
    if (!deleted) throw unknownDevice();
  }

  /** The caller's settings for a guild (0: private channels), the defaults when none were saved. */
  async settings(session: Session, guildId: bigint): Promise<NotificationSettings> {
    requirePerson(session);
    const { settings } = await this.storage(session.userId).listNotificationSettings({ guildId, userIds: [session.userId] });
    return settings[0] ?? create(NotificationSettingsSchema, { userId: session.userId, guildId, messageNotifications: NOTIFY_DEFAULT });
  }

  /**
   * Stores the caller's settings. A guild's owner is told first (it must know who wants pushes
   * of every message, and refuses non-members); a failure after that is fixed by retrying.
   */
  async updateSettings(session: Session, settings: NotificationSettings): Promise<NotificationSettings> {
    requirePerson(session);
    const mine = create(NotificationSettingsSchema, { ...settings, userId: session.userId });
    if (mine.guildId !== 0n) {
      await this.clients
        .client(GuildNotificationService, mine.guildId)
        .putMemberNotifications({ settings: mine })
        .catch((err: unknown) => {
          const refusal = fromGuildServiceError(err);
          // As a refusal both surfaces answer (the Connect NotificationService maps account errors).
          if (refusal instanceof GuildRequestError && refusal.code !== Code.AlreadyExists) {
            throw new RequestRefusedError(refusal.code === Code.NotFound ? "not_found" : refusal.code === Code.PermissionDenied ? "forbidden" : "precondition", refusal.discordCode, refusal.message, "guild_id");
          }
          throw refusal;
        });
    }
    const answer = await this.storage(session.userId).putNotificationSettings({ settings: mine });
    return answer.settings!;
  }
}
