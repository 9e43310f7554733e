import type { Device, NotificationSettings } from "@chorus/contracts/chorus/chat/v1/device_pb";
import type { QueryHook } from "./message-store.js";

export type { Device, NotificationSettings, QueryHook };

/**
 * Users' push devices and notification settings (the DeviceStorageService contract), with the
 * same semantics on Cassandra and SQLite (test/device-conformance.ts).
 */
export interface DeviceStore {
  readonly backend: "sqlite" | "cassandra";
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Stores a device under its user, replacing the one with the same id — taking it away from
   * another user who had it. Keeps the first registration's created_at (given `nowMs` else).
   */
  putDevice(device: Device, nowMs: number): Promise<Device>;
  /** Removes a device of a user; false when the user has none with the id. */
  deleteDevice(userId: bigint, deviceId: string): Promise<boolean>;
  /** The devices of the users, by user (in the order given) then device id. */
  listDevices(userIds: readonly bigint[]): Promise<Device[]>;
  putNotificationSettings(settings: NotificationSettings): Promise<void>;
  /** The settings stored for one guild of the users (in the order given); users with none are left out. */
  listNotificationSettings(guildId: bigint, userIds: readonly bigint[]): Promise<NotificationSettings[]>;
}
