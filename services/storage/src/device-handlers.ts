import type { ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { DeviceKind, NotificationSettingsSchema, type Device, type NotificationSettings } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { DeviceStorageService } from "@chorus/contracts/chorus/storage/v1/devices_pb";
import type { DeviceStore } from "./device-store.js";
import { guarded, invalidArgument, requireId } from "./storage-errors.js";

export const MAX_DEVICE_ID_LENGTH = 64;
export const MAX_DEVICE_TOKEN_LENGTH = 4096;
export const MAX_DEVICE_NAME_LENGTH = 100;
export const MAX_USERS_PER_LIST = 1000;
export const MAX_CHANNEL_OVERRIDES = 500;

const MAX_I64 = (1n << 63n) - 1n;

function checkDevice(device: Device | undefined): Device {
  if (!device) throw invalidArgument("device", "required");
  if (device.id === "" || device.id.length > MAX_DEVICE_ID_LENGTH || !/^[A-Za-z0-9_-]+$/.test(device.id)) {
    throw invalidArgument("device.id", `1 to ${MAX_DEVICE_ID_LENGTH} of [A-Za-z0-9_-]`);
  }
  requireId("device.user_id", device.userId);
  if (!(device.kind in DeviceKind) || device.kind === DeviceKind.UNSPECIFIED) throw invalidArgument("device.kind", "must be WEB_PUSH, FCM or APNS");
  if (device.token === "" || device.token.length > MAX_DEVICE_TOKEN_LENGTH) throw invalidArgument("device.token", `1 to ${MAX_DEVICE_TOKEN_LENGTH} characters`);
  if (device.kind === DeviceKind.WEB_PUSH) {
    if (device.p256dh === "") throw invalidArgument("device.p256dh", "required for a Web Push subscription");
    if (device.auth === "") throw invalidArgument("device.auth", "required for a Web Push subscription");
  }
  if (device.p256dh.length > 200) throw invalidArgument("device.p256dh", "at most 200 characters");
  if (device.auth.length > 200) throw invalidArgument("device.auth", "at most 200 characters");
  if (device.name.length > MAX_DEVICE_NAME_LENGTH) throw invalidArgument("device.name", `at most ${MAX_DEVICE_NAME_LENGTH} characters`);
  return device;
}

function checkUsers(field: string, userIds: readonly bigint[]): bigint[] {
  if (userIds.length < 1 || userIds.length > MAX_USERS_PER_LIST) throw invalidArgument(field, `1 to ${MAX_USERS_PER_LIST} user ids`);
  userIds.forEach((id, i) => requireId(`${field}[${i}]`, id));
  return [...userIds];
}

function checkLevel(field: string, level: number): void {
  if (level > 3) throw invalidArgument(field, "must be 0 (all messages), 1 (only mentions), 2 (nothing) or 3 (default)");
}

function checkSettings(settings: NotificationSettings | undefined): NotificationSettings {
  if (!settings) throw invalidArgument("settings", "required");
  requireId("settings.user_id", settings.userId);
  if (settings.guildId > MAX_I64) throw invalidArgument("settings.guild_id", "must be below 2^63");
  checkLevel("settings.message_notifications", settings.messageNotifications);
  if (settings.channelOverrides.length > MAX_CHANNEL_OVERRIDES) throw invalidArgument("settings.channel_overrides", `at most ${MAX_CHANNEL_OVERRIDES}`);
  const seen = new Set<bigint>();
  settings.channelOverrides.forEach((o, i) => {
    requireId(`settings.channel_overrides[${i}].channel_id`, o.channelId);
    if (seen.has(o.channelId)) throw invalidArgument(`settings.channel_overrides[${i}].channel_id`, "listed twice");
    seen.add(o.channelId);
    checkLevel(`settings.channel_overrides[${i}].message_notifications`, o.messageNotifications);
  });
  return create(NotificationSettingsSchema, settings);
}

/** The DeviceStorageService handlers over a store. */
export function createDeviceHandlers(store: DeviceStore): Partial<ServiceImpl<typeof DeviceStorageService>> {
  return {
    async putDevice(req) {
      const device = checkDevice(req.device);
      return { device: await guarded(() => store.putDevice(device, Date.now())) };
    },
    async deleteDevice(req) {
      requireId("user_id", req.userId);
      if (req.deviceId === "" || req.deviceId.length > MAX_DEVICE_ID_LENGTH) throw invalidArgument("device_id", `1 to ${MAX_DEVICE_ID_LENGTH} characters`);
      return { deleted: await guarded(() => store.deleteDevice(req.userId, req.deviceId)) };
    },
    async listDevices(req) {
      const users = checkUsers("user_ids", req.userIds);
      return { devices: await guarded(() => store.listDevices(users)) };
    },
    async putNotificationSettings(req) {
      const settings = checkSettings(req.settings);
      await guarded(() => store.putNotificationSettings(settings));
      return { settings };
    },
    async listNotificationSettings(req) {
      if (req.guildId > MAX_I64) throw invalidArgument("guild_id", "must be below 2^63");
      const users = checkUsers("user_ids", req.userIds);
      return { settings: await guarded(() => store.listNotificationSettings(req.guildId, users)) };
    },
  };
}
