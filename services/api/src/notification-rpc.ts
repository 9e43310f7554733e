import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { NotificationService } from "@chorus/contracts/chorus/api/v1/notifications_pb";
import { answer, bearerSession } from "./account-rpc.js";
import { InvalidFieldsError, fieldError } from "./accounts/account-errors.js";
import type { Accounts } from "./accounts/accounts.js";
import type { Notifications } from "./notifications/notifications.js";

/**
 * chorus.api.v1.NotificationService: push devices and notification settings of first-party
 * clients, on the same logic as the Discord-style /users/@me/devices routes.
 */
export function notificationRoutes(accounts: Accounts, notifications: Notifications) {
  const session = (ctx: HandlerContext) => bearerSession(accounts, ctx);
  return (router: ConnectRouter) =>
    router.service(NotificationService, {
      getPushConfig: (_req, ctx) =>
        answer(async () => {
          await session(ctx);
          return { webPushPublicKey: await notifications.webPushPublicKey() };
        }),
      registerDevice: (req, ctx) =>
        answer(async () => ({
          device: await notifications.register(await session(ctx), { kind: req.kind, token: req.token, p256dh: req.p256dh, auth: req.auth, name: req.name || undefined }),
        })),
      listDevices: (_req, ctx) => answer(async () => ({ devices: await notifications.list(await session(ctx)) })),
      deleteDevice: (req, ctx) =>
        answer(async () => {
          await notifications.remove(await session(ctx), req.deviceId);
          return {};
        }),
      getNotificationSettings: (req, ctx) => answer(async () => ({ settings: await notifications.settings(await session(ctx), req.guildId) })),
      updateNotificationSettings: (req, ctx) =>
        answer(async () => {
          const caller = await session(ctx);
          if (!req.settings) throw new InvalidFieldsError([fieldError("settings", "BASE_TYPE_REQUIRED", "settings is required")]);
          return { settings: await notifications.updateSettings(caller, req.settings) };
        }),
    });
}
