import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { NotificationSettingsSchema } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { PushReason } from "@chorus/contracts/chorus/push/v1/push_pb";
import { allowedBySettings, Level, priorityOf } from "./notification-rules.js";
import { Priority } from "./push-request.js";

const CHANNEL = 10n;
const settings = (init: Parameters<typeof create<typeof NotificationSettingsSchema>>[1]) => create(NotificationSettingsSchema, { messageNotifications: Level.Default, ...init });
const R = PushReason;

test("DMs and direct mentions are high priority, the rest low", () => {
  assert.equal(priorityOf(R.DIRECT_MESSAGE), Priority.High);
  assert.equal(priorityOf(R.MENTION), Priority.High);
  assert.equal(priorityOf(R.ROLE_MENTION), Priority.Low);
  assert.equal(priorityOf(R.EVERYONE), Priority.Low);
  assert.equal(priorityOf(R.ALL_MESSAGES), Priority.Low);
});

test("without settings the guild's default decides plain messages; mentions always notify", () => {
  assert.equal(allowedBySettings(R.ALL_MESSAGES, undefined, CHANNEL, Level.AllMessages), true);
  assert.equal(allowedBySettings(R.ALL_MESSAGES, undefined, CHANNEL, Level.OnlyMentions), false);
  for (const reason of [R.MENTION, R.ROLE_MENTION, R.EVERYONE, R.DIRECT_MESSAGE]) assert.equal(allowedBySettings(reason, undefined, CHANNEL, Level.OnlyMentions), true);
  assert.equal(allowedBySettings(R.UNSPECIFIED, undefined, CHANNEL, Level.AllMessages), false);
});

test("a muted guild or channel silences everything, mentions included", () => {
  for (const reason of [R.MENTION, R.DIRECT_MESSAGE, R.ALL_MESSAGES]) {
    assert.equal(allowedBySettings(reason, settings({ muted: true }), CHANNEL, Level.AllMessages), false);
    assert.equal(allowedBySettings(reason, settings({ channelOverrides: [{ channelId: CHANNEL, muted: true, messageNotifications: 3 }] }), CHANNEL, Level.AllMessages), false);
  }
  // Another channel's mute changes nothing here.
  assert.equal(allowedBySettings(R.MENTION, settings({ channelOverrides: [{ channelId: 99n, muted: true, messageNotifications: 3 }] }), CHANNEL, Level.AllMessages), true);
});

test("levels: the channel's over the guild's over the default; nothing silences mentions", () => {
  assert.equal(allowedBySettings(R.ALL_MESSAGES, settings({ messageNotifications: Level.AllMessages }), CHANNEL, Level.OnlyMentions), true);
  assert.equal(allowedBySettings(R.ALL_MESSAGES, settings({ messageNotifications: Level.OnlyMentions }), CHANNEL, Level.AllMessages), false);
  const channelAll = settings({ messageNotifications: Level.OnlyMentions, channelOverrides: [{ channelId: CHANNEL, muted: false, messageNotifications: Level.AllMessages }] });
  assert.equal(allowedBySettings(R.ALL_MESSAGES, channelAll, CHANNEL, Level.OnlyMentions), true);
  const nothing = settings({ messageNotifications: Level.Nothing });
  assert.equal(allowedBySettings(R.MENTION, nothing, CHANNEL, Level.AllMessages), false);
  assert.equal(allowedBySettings(R.DIRECT_MESSAGE, settings({ channelOverrides: [{ channelId: CHANNEL, muted: false, messageNotifications: Level.Nothing }] }), CHANNEL, Level.AllMessages), false);
});

test("suppress_everyone and suppress_roles silence only those mentions", () => {
  const s = settings({ suppressEveryone: true, suppressRoles: true });
  assert.equal(allowedBySettings(R.EVERYONE, s, CHANNEL, Level.OnlyMentions), false);
  assert.equal(allowedBySettings(R.ROLE_MENTION, s, CHANNEL, Level.OnlyMentions), false);
  assert.equal(allowedBySettings(R.MENTION, s, CHANNEL, Level.OnlyMentions), true);
});
