import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import { ChannelNotificationOverrideSchema, DeviceKind, type Device, type NotificationSettings } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { validate } from "../../accounts/account-rules.js";
import type { Accounts } from "../../accounts/accounts.js";
import type { Notifications } from "../../notifications/notifications.js";
import { requireSession } from "../auth.js";
import { answerRefusals } from "../refusals.js";
import { pathSnowflake } from "../path-ids.js";

const TYPES = { webpush: DeviceKind.WEB_PUSH, fcm: DeviceKind.FCM, apns: DeviceKind.APNS } as const;
const TYPE_NAMES = { [DeviceKind.WEB_PUSH]: "webpush", [DeviceKind.FCM]: "fcm", [DeviceKind.APNS]: "apns" } as Record<number, string>;

/**
 * POST /users/@me/devices: `{type: "webpush", endpoint, keys: {p256dh, auth}}` (a browser's
 * PushSubscription.toJSON() plus the type) or `{type: "fcm" | "apns", token}`; `name` optional.
 */
const registerSchema = z.object({
  type: z.enum(["webpush", "fcm", "apns"]),
  endpoint: z.string().optional(),
  token: z.string().optional(),
  keys: z.object({ p256dh: z.string(), auth: z.string() }).optional(),
  name: z.string().max(100).nullish(),
});

/** Discord's message_notifications: 0 all, 1 only mentions, 2 nothing, 3 the guild's default. */
const level = z.literal([0, 1, 2, 3]);
const overrideSchema = z.object({ muted: z.boolean().optional(), message_notifications: level.optional() });
/** PATCH /users/@me/guilds/:guild_id/settings, as Discord's client sends it (fields left out are kept). */
const settingsSchema = z.object({
  muted: z.boolean().optional(),
  message_notifications: level.optional(),
  suppress_everyone: z.boolean().optional(),
  suppress_roles: z.boolean().optional(),
  channel_overrides: z.union([z.record(z.string().regex(/^\d{1,20}$/), overrideSchema), z.array(overrideSchema.extend({ channel_id: z.string().regex(/^\d{1,20}$/) }))]).optional(),
});

/** A device as the Discord-style routes show it (the Web Push keys are never echoed). */
export function discordDevice(device: Device) {
  const type = TYPE_NAMES[device.kind] ?? "unknown";
  return {
    id: device.id,
    type,
    ...(device.kind === DeviceKind.WEB_PUSH ? { endpoint: device.token } : { token: device.token }),
    name: device.name || null,
    created_at: device.createdAt ? timestampDate(device.createdAt).toISOString() : null,
  };
}

/** Discord's user guild settings object (guild_id null for private channels). */
export function discordSettings(settings: NotificationSettings) {
  return {
    guild_id: settings.guildId === 0n ? null : String(settings.guildId),
    muted: settings.muted,
    message_notifications: settings.messageNotifications,
    suppress_everyone: settings.suppressEveryone,
    suppress_roles: settings.suppressRoles,
    channel_overrides: settings.channelOverrides.map((o) => ({ channel_id: String(o.channelId), muted: o.muted, message_notifications: o.messageNotifications })),
  };
}

type ById = { Params: { id: string } };
type ByGuild = { Params: { guild_id: string } };

/** Push devices (/users/@me/devices) and per-guild notification settings (/users/@me/guilds/:id/settings). People only. */
export function deviceRoutes(accounts: Accounts, notifications: Notifications) {
  const guildOf = (value: string) => (value === "@me" ? 0n : pathSnowflake("guild_id", value));
  return async (app: FastifyInstance) => {
    answerRefusals(app);

    app.get("/users/@me/devices", async (request) => (await notifications.list(await requireSession(accounts, request))).map(discordDevice));

    app.get("/users/@me/devices/config", async (request) => {
      await requireSession(accounts, request);
      return { web_push_public_key: (await notifications.webPushPublicKey()) || null };
    });

    app.post("/users/@me/devices", async (request) => {
      const session = await requireSession(accounts, request);
      const body = validate(registerSchema, request.body ?? {});
      const web = body.type === "webpush";
      const device = await notifications.register(session, {
        kind: TYPES[body.type],
        token: (web ? body.endpoint : body.token) ?? "",
        p256dh: body.keys?.p256dh,
        auth: body.keys?.auth,
        name: body.name ?? undefined,
      });
      return discordDevice(device);
    });

    app.delete<ById>("/users/@me/devices/:id", async (request, reply) => {
      await notifications.remove(await requireSession(accounts, request), request.params.id);
      return reply.code(204).send();
    });

    app.get<ByGuild>("/users/@me/guilds/:guild_id/settings", async (request) => {
      const session = await requireSession(accounts, request);
      return discordSettings(await notifications.settings(session, guildOf(request.params.guild_id)));
    });

    app.patch<ByGuild>("/users/@me/guilds/:guild_id/settings", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = guildOf(request.params.guild_id);
      const patch = validate(settingsSchema, request.body ?? {});
      const current = await notifications.settings(session, guildId);
      const overrides = new Map(current.channelOverrides.map((o) => [o.channelId, o]));
      const given = Array.isArray(patch.channel_overrides)
        ? patch.channel_overrides.map((o) => [o.channel_id, o] as const)
        : Object.entries(patch.channel_overrides ?? {});
      for (const [id, o] of given) {
        const channelId = pathSnowflake("channel_overrides", id);
        const before = overrides.get(channelId);
        overrides.set(
          channelId,
          create(ChannelNotificationOverrideSchema, {
            channelId,
            muted: o.muted ?? before?.muted ?? false,
            messageNotifications: o.message_notifications ?? before?.messageNotifications ?? 3,
          }),
        );
      }
      const next = {
        ...current,
        muted: patch.muted ?? current.muted,
        messageNotifications: patch.message_notifications ?? current.messageNotifications,
        suppressEveryone: patch.suppress_everyone ?? current.suppressEveryone,
        suppressRoles: patch.suppress_roles ?? current.suppressRoles,
        channelOverrides: [...overrides.values()],
      };
      return discordSettings(await notifications.updateSettings(session, next));
    });
  };
}
