import type Database from "better-sqlite3";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { DeviceSchema, NotificationSettingsSchema, type DeviceKind } from "@chorus/contracts/chorus/chat/v1/device_pb";
import type { Device, DeviceStore, NotificationSettings, QueryHook } from "./device-store.js";
import { fromDb, SqliteConnection, toDb } from "./sqlite-schema.js";

export interface SqliteDeviceStoreOptions {
  /** Database file (the message store's), or ":memory:". */
  path: string;
  onQuery?: QueryHook;
}

interface DeviceRow {
  device_id: string;
  user_id: bigint;
  kind: bigint;
  token: string;
  p256dh: string;
  auth: string;
  name: string;
  created_at: bigint;
}

const decodeDevice = (row: DeviceRow): Device =>
  create(DeviceSchema, {
    id: row.device_id,
    userId: fromDb(row.user_id),
    kind: Number(row.kind) as DeviceKind,
    token: row.token,
    p256dh: row.p256dh,
    auth: row.auth,
    name: row.name,
    createdAt: timestampFromMs(Number(row.created_at)),
  });

/** Devices and notification settings on SQLite (migration 7 in sqlite-schema.ts). */
export class SqliteDeviceStore implements DeviceStore {
  readonly backend = "sqlite" as const;
  private readonly connection: SqliteConnection<ReturnType<SqliteDeviceStore["prepareStatements"]>>;

  constructor(private readonly options: SqliteDeviceStoreOptions) {
    this.connection = new SqliteConnection(options.path, options.onQuery, (db) => this.prepareStatements(db));
  }

  async open(): Promise<void> {
    this.connection.open();
  }

  async close(): Promise<void> {
    this.connection.close();
  }

  private prepareStatements(db: Database.Database) {
    return {
      // The device id is the key: a device registered by another user moves to this one.
      putDevice: db.prepare<[DeviceRow], DeviceRow>(
        `INSERT INTO push_devices (device_id, user_id, kind, token, p256dh, auth, name, created_at)
         VALUES (@device_id, @user_id, @kind, @token, @p256dh, @auth, @name, @created_at)
         ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id, kind = excluded.kind, token = excluded.token,
           p256dh = excluded.p256dh, auth = excluded.auth, name = excluded.name,
           created_at = CASE WHEN push_devices.user_id = excluded.user_id THEN push_devices.created_at ELSE excluded.created_at END
         RETURNING *`,
      ),
      deleteDevice: db.prepare<[bigint, string]>("DELETE FROM push_devices WHERE user_id = ? AND device_id = ?"),
      devicesOf: db.prepare<[bigint], DeviceRow>("SELECT * FROM push_devices WHERE user_id = ? ORDER BY device_id"),
      putSettings: db.prepare<[bigint, bigint, Buffer]>(
        `INSERT INTO notification_settings (user_id, guild_id, settings) VALUES (?, ?, ?)
         ON CONFLICT (user_id, guild_id) DO UPDATE SET settings = excluded.settings`,
      ),
      settings: db.prepare<[bigint, bigint], Buffer>("SELECT settings FROM notification_settings WHERE user_id = ? AND guild_id = ?").pluck(),
    };
  }

  private query(operation: string): void {
    this.options.onQuery?.(operation);
  }

  putDevice(device: Device, nowMs: number): Promise<Device> {
    return this.connection.run("put_device", (s) => {
      this.query("put_device");
      const row = s.putDevice.get({
        device_id: device.id,
        user_id: toDb(device.userId),
        kind: BigInt(device.kind),
        token: device.token,
        p256dh: device.p256dh,
        auth: device.auth,
        name: device.name,
        created_at: BigInt(device.createdAt ? timestampMs(device.createdAt) : nowMs),
      })!;
      return decodeDevice(row);
    });
  }

  deleteDevice(userId: bigint, deviceId: string): Promise<boolean> {
    return this.connection.run("delete_device", (s) => {
      this.query("delete_device");
      return s.deleteDevice.run(toDb(userId), deviceId).changes > 0;
    });
  }

  listDevices(userIds: readonly bigint[]): Promise<Device[]> {
    return this.connection.run("list_devices", (s) =>
      [...new Set(userIds)].flatMap((userId) => {
        this.query("list_devices");
        return s.devicesOf.all(toDb(userId)).map(decodeDevice);
      }),
    );
  }

  putNotificationSettings(settings: NotificationSettings): Promise<void> {
    return this.connection.run("put_notification_settings", (s) => {
      this.query("put_notification_settings");
      s.putSettings.run(toDb(settings.userId), toDb(settings.guildId), Buffer.from(toBinary(NotificationSettingsSchema, settings)));
    });
  }

  listNotificationSettings(guildId: bigint, userIds: readonly bigint[]): Promise<NotificationSettings[]> {
    return this.connection.run("list_notification_settings", (s) =>
      [...new Set(userIds)].flatMap((userId) => {
        this.query("list_notification_settings");
        const blob = s.settings.get(toDb(userId), toDb(guildId));
        return blob ? [fromBinary(NotificationSettingsSchema, blob)] : [];
      }),
    );
  }
}
