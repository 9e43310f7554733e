import type { NotificationSettings } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { PushReason } from "@chorus/contracts/chorus/push/v1/push_pb";
import { Priority } from "./push-request.js";

/** Discord's message_notifications. */
export const Level = { AllMessages: 0, OnlyMentions: 1, Nothing: 2, Default: 3 } as const;

/** DMs and direct mentions go first and are shed last. */
export function priorityOf(reason: PushReason): Priority {
  return reason === PushReason.DIRECT_MESSAGE || reason === PushReason.MENTION ? Priority.High : Priority.Low;
}

/**
 * Whether a user's settings let a push through: a muted guild or channel silences everything;
 * the channel's level (unless "default"), else the guild's (unless "default"), else the
 * guild's default_message_notifications decides whether plain messages notify ("nothing"
 * silences mentions too); suppress_everyone and suppress_roles silence those mentions. A
 * private channel (guild 0) notifies unless it, or all private channels, are muted or set to
 * nothing.
 */
export function allowedBySettings(reason: PushReason, settings: NotificationSettings | undefined, channelId: bigint, guildDefault: number): boolean {
  const override = settings?.channelOverrides.find((o) => o.channelId === channelId);
  if (settings?.muted || override?.muted) return false;
  let level = guildDefault;
  if (override && override.messageNotifications !== Level.Default) level = override.messageNotifications;
  else if (settings && settings.messageNotifications !== Level.Default) level = settings.messageNotifications;
  if (level === Level.Nothing) return false;
  switch (reason) {
    case PushReason.DIRECT_MESSAGE:
    case PushReason.MENTION:
      return true;
    case PushReason.ROLE_MENTION:
      return !settings?.suppressRoles;
    case PushReason.EVERYONE:
      return !settings?.suppressEveryone;
    case PushReason.ALL_MESSAGES:
      return level === Level.AllMessages;
    default:
      return false;
  }
}
