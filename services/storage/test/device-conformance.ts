// The device storage contract, end to end, against any DeviceStore: the real handlers served
// through an in-memory Connect router and called with the generated client. Both backends run
// it (sqlite-device-store.test.ts, cassandra-device-store.test.ts). Ids are random per run, so
// it also runs on a shared Cassandra keyspace.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { DeviceKind } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { DeviceStorageService } from "@chorus/contracts/chorus/storage/v1/devices_pb";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { createDeviceHandlers } from "../src/device-handlers.js";
import type { DeviceStore } from "../src/device-store.js";
import { rejectsWith } from "./conformance.js";

type DeviceClient = Client<typeof DeviceStorageService>;

export function describeDeviceConformance(name: string, makeStore: () => Promise<DeviceStore>, cleanup?: () => Promise<void> | void): void {
  describe(`device storage contract (${name})`, () => {
    let store: DeviceStore;
    let devices: DeviceClient;
    const ids = new SnowflakeGenerator({ workerId: Math.floor(Math.random() * 32), processId: Math.floor(Math.random() * 32) });
    const deviceId = () => randomBytes(12).toString("base64url");

    before(async () => {
      store = await makeStore();
      devices = createClient(DeviceStorageService, createRouterTransport((router) => router.service(DeviceStorageService, createDeviceHandlers(store))));
    });
    after(async () => {
      await store.close();
      await cleanup?.();
    });

    it("stores devices of every kind, lists them by user, keeps the first created_at on a repeat", async () => {
      const ada = ids.next();
      const bob = ids.next();
      const web = { id: deviceId(), userId: ada, kind: DeviceKind.WEB_PUSH, token: "https://push.example/abc", p256dh: "BPk", auth: "c2VjcmV0", name: "Firefox" };
      const fcm = { id: deviceId(), userId: ada, kind: DeviceKind.FCM, token: "fcm-token" };
      const apns = { id: deviceId(), userId: bob, kind: DeviceKind.APNS, token: "a1b2c3" };
      const first = (await devices.putDevice({ device: web })).device!;
      assert.ok(first.createdAt && Math.abs(timestampMs(first.createdAt) - Date.now()) < 60_000);
      await devices.putDevice({ device: fcm });
      await devices.putDevice({ device: apns });
      await new Promise((r) => setTimeout(r, 5));
      const again = (await devices.putDevice({ device: { ...web, name: "Firefox on Linux" } })).device!;
      assert.equal(timestampMs(again.createdAt!), timestampMs(first.createdAt!));
      const listed = (await devices.listDevices({ userIds: [ada] })).devices;
      assert.deepEqual(listed.map((d) => d.id).sort(), [web.id, fcm.id].sort());
      const storedWeb = listed.find((d) => d.id === web.id)!;
      assert.equal(storedWeb.name, "Firefox on Linux");
      assert.equal(storedWeb.p256dh, "BPk");
      assert.equal(storedWeb.auth, "c2VjcmV0");
      assert.equal(storedWeb.kind, DeviceKind.WEB_PUSH);
      assert.equal(storedWeb.userId, ada);
      const both = (await devices.listDevices({ userIds: [bob, ada] })).devices;
      assert.equal(both.length, 3);
      assert.equal(both[0].userId, bob, "users in the order asked");
      assert.deepEqual((await devices.listDevices({ userIds: [ids.next()] })).devices, []);
    });

    it("a device registered by another user moves to that user", async () => {
      const ada = ids.next();
      const bob = ids.next();
      const id = deviceId();
      await devices.putDevice({ device: { id, userId: ada, kind: DeviceKind.FCM, token: "shared-phone" } });
      await devices.putDevice({ device: { id, userId: bob, kind: DeviceKind.FCM, token: "shared-phone" } });
      assert.deepEqual((await devices.listDevices({ userIds: [ada] })).devices, []);
      assert.deepEqual((await devices.listDevices({ userIds: [bob] })).devices.map((d) => d.id), [id]);
      // Ada's delete of a device she no longer has changes nothing.
      assert.equal((await devices.deleteDevice({ userId: ada, deviceId: id })).deleted, false);
      assert.equal((await devices.listDevices({ userIds: [bob] })).devices.length, 1);
    });

    it("deletes a device once", async () => {
      const ada = ids.next();
      const id = deviceId();
      await devices.putDevice({ device: { id, userId: ada, kind: DeviceKind.APNS, token: "ff00" } });
      assert.equal((await devices.deleteDevice({ userId: ada, deviceId: id })).deleted, true);
      assert.equal((await devices.deleteDevice({ userId: ada, deviceId: id })).deleted, false);
      assert.deepEqual((await devices.listDevices({ userIds: [ada] })).devices, []);
      // Registered again after a delete, it is back.
      await devices.putDevice({ device: { id, userId: ada, kind: DeviceKind.APNS, token: "ff00" } });
      assert.equal((await devices.listDevices({ userIds: [ada] })).devices.length, 1);
    });

    it("stores notification settings per user and guild, replacing them whole", async () => {
      const ada = ids.next();
      const bob = ids.next();
      const guild = ids.next();
      const channel = ids.next();
      await devices.putNotificationSettings({
        settings: { userId: ada, guildId: guild, muted: true, messageNotifications: 1, suppressEveryone: true, channelOverrides: [{ channelId: channel, muted: true, messageNotifications: 2 }] },
      });
      await devices.putNotificationSettings({ settings: { userId: ada, guildId: 0n, channelOverrides: [{ channelId: channel, muted: true, messageNotifications: 3 }] } });
      let listed = (await devices.listNotificationSettings({ guildId: guild, userIds: [ada, bob] })).settings;
      assert.equal(listed.length, 1, "bob has none");
      assert.equal(listed[0].userId, ada);
      assert.equal(listed[0].muted, true);
      assert.equal(listed[0].suppressEveryone, true);
      assert.equal(listed[0].messageNotifications, 1);
      assert.deepEqual(listed[0].channelOverrides.map((o) => [o.channelId, o.muted, o.messageNotifications]), [[channel, true, 2]]);
      await devices.putNotificationSettings({ settings: { userId: ada, guildId: guild, suppressRoles: true } });
      listed = (await devices.listNotificationSettings({ guildId: guild, userIds: [ada] })).settings;
      assert.equal(listed[0].muted, false);
      assert.equal(listed[0].suppressRoles, true);
      assert.deepEqual(listed[0].channelOverrides, []);
      const dms = (await devices.listNotificationSettings({ guildId: 0n, userIds: [ada] })).settings;
      assert.equal(dms[0].channelOverrides[0].muted, true);
    });

    it("refuses bad input, naming the field", async () => {
      const ada = ids.next();
      await rejectsWith(devices.putDevice({}), Code.InvalidArgument, "device");
      await rejectsWith(devices.putDevice({ device: { id: "", userId: ada, kind: DeviceKind.FCM, token: "t" } }), Code.InvalidArgument, "device.id");
      await rejectsWith(devices.putDevice({ device: { id: "a/b", userId: ada, kind: DeviceKind.FCM, token: "t" } }), Code.InvalidArgument, "device.id");
      await rejectsWith(devices.putDevice({ device: { id: "x", userId: 0n, kind: DeviceKind.FCM, token: "t" } }), Code.InvalidArgument, "device.user_id");
      await rejectsWith(devices.putDevice({ device: { id: "x", userId: ada, token: "t" } }), Code.InvalidArgument, "device.kind");
      await rejectsWith(devices.putDevice({ device: { id: "x", userId: ada, kind: DeviceKind.FCM } }), Code.InvalidArgument, "device.token");
      await rejectsWith(devices.putDevice({ device: { id: "x", userId: ada, kind: DeviceKind.WEB_PUSH, token: "https://p/x", auth: "a" } }), Code.InvalidArgument, "device.p256dh");
      await rejectsWith(devices.putDevice({ device: { id: "x", userId: ada, kind: DeviceKind.FCM, token: "t", name: "n".repeat(101) } }), Code.InvalidArgument, "device.name");
      await rejectsWith(devices.listDevices({ userIds: [] }), Code.InvalidArgument, "user_ids");
      await rejectsWith(devices.listDevices({ userIds: [ada, 0n] }), Code.InvalidArgument, "user_ids[1]");
      await rejectsWith(devices.deleteDevice({ userId: ada, deviceId: "" }), Code.InvalidArgument, "device_id");
      await rejectsWith(devices.putNotificationSettings({ settings: { userId: ada, messageNotifications: 4 } }), Code.InvalidArgument, "settings.message_notifications");
      await rejectsWith(
        devices.putNotificationSettings({ settings: { userId: ada, channelOverrides: [{ channelId: 5n }, { channelId: 5n }] } }),
        Code.InvalidArgument,
        "settings.channel_overrides[1].channel_id",
      );
      await rejectsWith(devices.listNotificationSettings({ guildId: 1n, userIds: [] }), Code.InvalidArgument, "user_ids");
    });
  });
}
