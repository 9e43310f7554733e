import type cassandra from "cassandra-driver";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { DeviceSchema, NotificationSettingsSchema, type DeviceKind } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { CassandraBackedStore } from "./cassandra-session.js";
import type { Device, DeviceStore, NotificationSettings } from "./device-store.js";

/** Point reads of one list call in flight at once. */
const READ_CONCURRENCY = 64;

function decodeDevice(row: cassandra.types.Row): Device {
  return create(DeviceSchema, {
    id: row.device_id as string,
    userId: row.user_id as bigint,
    kind: (row.kind as number) as DeviceKind,
    token: (row.device_token as string | null) ?? "",
    p256dh: (row.p256dh as string | null) ?? "",
    auth: (row.auth as string | null) ?? "",
    name: (row.name as string | null) ?? "",
    createdAt: timestampFromMs((row.created_at as Date | null)?.getTime() ?? 0),
  });
}

/** Runs `work` over `items` with at most `limit` at once; results in item order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Devices and notification settings on Cassandra/ScyllaDB (migration 7): `push_devices` is one
 * partition per user, `push_device_owners` says which user a device id belongs to now, and
 * `notification_settings` one partition per user with a row per guild. Registering a device
 * another user had reads its owner, deletes it from that user's partition, then writes the
 * owner and the row (plain writes: two registrations of one token racing each other can leave
 * it listed under both users until either registers it again or a push to it fails for good).
 */
export class CassandraDeviceStore extends CassandraBackedStore implements DeviceStore {
  async putDevice(device: Device, nowMs: number): Promise<Device> {
    const [owner, existing] = await Promise.all([
      this.session.execute("get_device_owner", `SELECT user_id FROM ${this.ks}.push_device_owners WHERE device_id = ?`, [device.id]),
      this.session.execute("get_device", `SELECT created_at FROM ${this.ks}.push_devices WHERE user_id = ? AND device_id = ?`, [device.userId, device.id]),
    ]);
    const previousOwner = owner.first()?.user_id as bigint | undefined;
    if (previousOwner !== undefined && previousOwner !== device.userId) {
      await this.session.execute("delete_device", `DELETE FROM ${this.ks}.push_devices WHERE user_id = ? AND device_id = ?`, [previousOwner, device.id]);
    }
    const kept = existing.first()?.created_at as Date | undefined;
    const createdAt = kept ?? new Date(device.createdAt ? timestampMs(device.createdAt) : nowMs);
    await this.session.execute("put_device_owner", `INSERT INTO ${this.ks}.push_device_owners (device_id, user_id) VALUES (?, ?)`, [device.id, device.userId]);
    await this.session.execute(
      "put_device",
      `INSERT INTO ${this.ks}.push_devices (user_id, device_id, kind, device_token, p256dh, auth, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [device.userId, device.id, device.kind, device.token, device.p256dh, device.auth, device.name, createdAt],
    );
    return create(DeviceSchema, { ...device, createdAt: timestampFromMs(createdAt.getTime()) });
  }

  async deleteDevice(userId: bigint, deviceId: string): Promise<boolean> {
    const [row, owner] = await Promise.all([
      this.session.execute("get_device", `SELECT device_id FROM ${this.ks}.push_devices WHERE user_id = ? AND device_id = ?`, [userId, deviceId]),
      this.session.execute("get_device_owner", `SELECT user_id FROM ${this.ks}.push_device_owners WHERE device_id = ?`, [deviceId]),
    ]);
    if (row.rowLength === 0) return false;
    await this.session.execute("delete_device", `DELETE FROM ${this.ks}.push_devices WHERE user_id = ? AND device_id = ?`, [userId, deviceId]);
    if (owner.first()?.user_id === userId) {
      await this.session.execute("delete_device_owner", `DELETE FROM ${this.ks}.push_device_owners WHERE device_id = ?`, [deviceId]);
    }
    return true;
  }

  async listDevices(userIds: readonly bigint[]): Promise<Device[]> {
    const pages = await mapLimited([...new Set(userIds)], READ_CONCURRENCY, (userId) =>
      this.session.all("list_devices", `SELECT * FROM ${this.ks}.push_devices WHERE user_id = ?`, [userId]),
    );
    return pages.flatMap((rows) => rows.map(decodeDevice));
  }

  async putNotificationSettings(settings: NotificationSettings): Promise<void> {
    await this.session.execute(
      "put_notification_settings",
      `INSERT INTO ${this.ks}.notification_settings (user_id, guild_id, settings) VALUES (?, ?, ?)`,
      [settings.userId, settings.guildId, Buffer.from(toBinary(NotificationSettingsSchema, settings))],
    );
  }

  async listNotificationSettings(guildId: bigint, userIds: readonly bigint[]): Promise<NotificationSettings[]> {
    const rows = await mapLimited([...new Set(userIds)], READ_CONCURRENCY, (userId) =>
      this.session.execute("get_notification_settings", `SELECT settings FROM ${this.ks}.notification_settings WHERE user_id = ? AND guild_id = ?`, [userId, guildId]),
    );
    return rows.flatMap((r) => {
      const blob = r.first()?.settings as Buffer | undefined;
      return blob ? [fromBinary(NotificationSettingsSchema, blob)] : [];
    });
  }
}
