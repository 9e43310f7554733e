import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { GuildEventSchema, GuildStateSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { PushReason } from "@chorus/contracts/chorus/push/v1/push_pb";
import { GuildModel } from "@chorus/guild-state/guild-model";
import { Permission } from "@chorus/permissions";
import { pushRecipients } from "./guild-push.js";

const GUILD = 100n;
const CHANNEL = 200n;
const HIDDEN = 201n;
const MODS = 300n;
const [AUTHOR, ADA, BOB, CY, DEE] = [1n, 2n, 3n, 4n, 5n];
const VIEW_AND_SEND = Permission.ViewChannel | Permission.SendMessages;

function guild(defaultMessageNotifications: number): GuildModel {
  const state = create(GuildStateSchema, {
    guild: { id: GUILD, name: "g", ownerId: AUTHOR, defaultMessageNotifications },
    roles: [
      { id: GUILD, name: "@everyone", permissions: VIEW_AND_SEND },
      { id: MODS, name: "mods", position: 1, permissions: 0n, mentionable: true },
    ],
    channels: [
      { id: CHANNEL, type: 0, guildId: GUILD, name: "general" },
      // Only mods see it.
      {
        id: HIDDEN,
        type: 0,
        guildId: GUILD,
        name: "mods",
        permissionOverwrites: [
          { id: GUILD, type: 0, allow: 0n, deny: Permission.ViewChannel },
          { id: MODS, type: 0, allow: Permission.ViewChannel, deny: 0n },
        ],
      },
    ],
    members: [AUTHOR, ADA, BOB, CY, DEE].map((userId) => ({ userId, roleIds: userId === CY ? [MODS] : [] })),
  });
  return GuildModel.fromState(GUILD, 1n, state);
}

const message = (init: Parameters<typeof create<typeof MessageSchema>>[1]) => create(MessageSchema, { id: 9n, channelId: CHANNEL, authorId: AUTHOR, ...init });
const reasons = (list: { userId?: bigint; reason?: PushReason }[]) => Object.fromEntries(list.map((r) => [String(r.userId), r.reason]));

test("mentions reach offline members who see the channel; online members and the author get nothing", () => {
  const model = guild(1);
  const channel = model.channels.get(CHANNEL)!;
  const got = pushRecipients(model, channel, new Set([BOB]), message({ content: "hi", mentions: [ADA, BOB, AUTHOR], mentionRoles: [MODS] }), false);
  assert.deepEqual(reasons(got), { [String(ADA)]: PushReason.MENTION, [String(CY)]: PushReason.ROLE_MENTION });
});

test("@everyone reaches every offline member; @here none (it is for online members)", () => {
  const model = guild(1);
  const channel = model.channels.get(CHANNEL)!;
  const everyone = pushRecipients(model, channel, new Set([DEE]), message({ content: "@everyone look", mentionEveryone: true, mentions: [ADA] }), false);
  assert.deepEqual(reasons(everyone), { [String(ADA)]: PushReason.MENTION, [String(BOB)]: PushReason.EVERYONE, [String(CY)]: PushReason.EVERYONE });
  assert.deepEqual(pushRecipients(model, channel, new Set(), message({ content: "@here look", mentionEveryone: true }), false), []);
});

test("a guild notifying of all messages reaches every offline member; only those who may see the channel", () => {
  const model = guild(0);
  assert.deepEqual(reasons(pushRecipients(model, model.channels.get(CHANNEL)!, new Set(), message({ content: "plain" }), false)), {
    [String(ADA)]: PushReason.ALL_MESSAGES,
    [String(BOB)]: PushReason.ALL_MESSAGES,
    [String(CY)]: PushReason.ALL_MESSAGES,
    [String(DEE)]: PushReason.ALL_MESSAGES,
  });
  const hidden = pushRecipients(model, model.channels.get(HIDDEN)!, new Set(), message({ channelId: HIDDEN, content: "@everyone", mentionEveryone: true, mentions: [ADA] }), false);
  assert.deepEqual(reasons(hidden), { [String(CY)]: PushReason.EVERYONE });
  assert.deepEqual(pushRecipients(guild(1), guild(1).channels.get(CHANNEL)!, new Set(), message({ content: "plain" }), false), []);
});

test("a private channel notifies every other recipient as a DM", () => {
  const model = guild(1);
  const dm = create(GuildStateSchema, { channels: [{ id: 500n, type: 1, recipientIds: [AUTHOR, ADA] }] }).channels[0];
  assert.deepEqual(reasons(pushRecipients(model, dm, new Set(), message({ channelId: 500n, content: "psst" }), true)), { [String(ADA)]: PushReason.DIRECT_MESSAGE });
});

test("members' own settings, recorded in the guild's log, decide plain messages both ways", () => {
  const settings = (userId: bigint, init: Record<string, unknown>) =>
    create(GuildEventSchema, { seq: 2n, dispatch: "USER_GUILD_SETTINGS_UPDATE", change: { case: "memberNotificationsUpdated", value: { userId, guildId: GUILD, messageNotifications: 3, ...init } } });
  const plain = message({ content: "plain" });
  // Only mentions by default: Ada asked for all messages, Bob for all messages in #general only,
  // Cy for all but muted #general, Dee for all in another channel.
  const mentionsOnly = guild(1);
  mentionsOnly.apply(settings(ADA, { messageNotifications: 0 }));
  mentionsOnly.apply(settings(BOB, { messageNotifications: 2, channelOverrides: [{ channelId: CHANNEL, muted: false, messageNotifications: 0 }] }));
  mentionsOnly.apply(settings(CY, { messageNotifications: 0, channelOverrides: [{ channelId: CHANNEL, muted: true, messageNotifications: 3 }] }));
  mentionsOnly.apply(settings(DEE, { channelOverrides: [{ channelId: HIDDEN, muted: false, messageNotifications: 0 }] }));
  const general = mentionsOnly.channels.get(CHANNEL)!;
  assert.deepEqual(reasons(pushRecipients(mentionsOnly, general, new Set(), plain, false)), { [String(ADA)]: PushReason.ALL_MESSAGES, [String(BOB)]: PushReason.ALL_MESSAGES });
  // Online, Ada gets nothing; a mention still reaches Dee by name.
  assert.deepEqual(reasons(pushRecipients(mentionsOnly, general, new Set([ADA]), message({ content: "hey", mentions: [DEE] }), false)), {
    [String(BOB)]: PushReason.ALL_MESSAGES,
    [String(DEE)]: PushReason.MENTION,
  });
  // Dee cannot see the hidden channel: her override there pushes nothing.
  assert.deepEqual(reasons(pushRecipients(mentionsOnly, mentionsOnly.channels.get(HIDDEN)!, new Set(), message({ channelId: HIDDEN, content: "x" }), false)), { [String(CY)]: PushReason.ALL_MESSAGES });

  // All messages by default: Ada chose only mentions, Bob nothing; Cy's settings go back to defaults.
  const all = guild(0);
  all.apply(settings(ADA, { messageNotifications: 1 }));
  all.apply(settings(BOB, { messageNotifications: 2 }));
  all.apply(settings(CY, { muted: true }));
  all.apply(settings(CY, {}));
  assert.equal(all.memberNotifications.has(CY), false, "default settings are not held");
  assert.deepEqual(reasons(pushRecipients(all, all.channels.get(CHANNEL)!, new Set(), plain, false)), { [String(CY)]: PushReason.ALL_MESSAGES, [String(DEE)]: PushReason.ALL_MESSAGES });
  // The held settings survive a snapshot.
  const reloaded = GuildModel.fromState(GUILD, all.seq, all.toState());
  assert.deepEqual([...reloaded.memberNotifications.keys()].sort(), [ADA, BOB]);
});
