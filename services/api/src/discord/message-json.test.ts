import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { MessageReactionResponseSchema, MessageResponseSchema } from "discord-api-spec/zod";
import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import {
  MESSAGE_CONTENT_FIELDS,
  discordMessage,
  snowflakeTime,
  usersOfMessage,
  withheldContentFields,
  withoutContent,
} from "@chorus/discord-json/messages";
import { deletedUser } from "./user-lookup.js";

function assertMatches(schema: { safeParse(value: unknown): { success: boolean; error?: unknown } }, value: unknown, what: string) {
  const result = schema.safeParse(value);
  assert.ok(result.success, `${what} does not match Discord's schema: ${JSON.stringify(result.error)}\n${JSON.stringify(value)}`);
}

// 2024-01-01T00:00:00.000Z as a snowflake: (ms - Discord epoch) << 22.
const messageId = (1704067200000n - 1420070400000n) << 22n;
const channelId = 1300000000000000010n;
const guildId = 1300000000000000001n;
const authorId = 1300000000000000002n;
const botId = 1300000000000000003n;
const users = new Map<bigint, User>([
  [authorId, create(UserSchema, { id: authorId, username: "ada", globalName: "Ada" })],
  [botId, create(UserSchema, { id: botId, username: "botty", bot: true })],
]);
const lookup = (id: bigint) => users.get(id) ?? deletedUser(id);

const embed = {
  type: "rich",
  title: "Release",
  description: "Chorus 1.0",
  color: 0x5865f2,
  fields: [{ name: "Version", value: "1.0", inline: true }],
  footer: { text: "footer" },
  author: { name: "Ada" },
  timestamp: "2024-01-01T00:00:00.000Z",
};
const components: JsonObject[] = [
  {
    type: 1,
    id: 1,
    components: [
      { type: 2, id: 2, style: 1, label: "Yes", custom_id: "yes" },
      { type: 2, id: 3, style: 5, label: "Docs", url: "https://example.com/docs" },
    ],
  },
  {
    type: 1,
    id: 4,
    components: [{ type: 3, id: 5, custom_id: "pick", min_values: 1, max_values: 1, options: [{ label: "A", value: "a" }] }],
  },
];

const message = create(MessageSchema, {
  id: messageId,
  channelId,
  guildId,
  authorId,
  content: "hello <@1300000000000000003> <@&42>",
  mentions: [botId],
  mentionRoles: [42n],
  embeds: [embed],
  components,
  attachments: [{ id: 77n, filename: "a.png", contentType: "image/png", size: 1234n, url: "https://cdn.example.com/a.png", width: 10, height: 20 }],
  nonce: "n-1",
  tts: false,
  flags: 0,
});

describe("Discord JSON of messages", () => {
  it("a message with mentions, embeds, components and attachments matches Discord's schema", () => {
    const json = discordMessage(message, lookup);
    assertMatches(MessageResponseSchema, json, "message");
    assert.equal(json.id, messageId.toString());
    assert.equal(json.channel_id, channelId.toString());
    assert.equal(json.timestamp, "2024-01-01T00:00:00.000Z", "the snowflake's time");
    assert.equal(json.edited_timestamp, null);
    assert.equal(json.author.username, "ada");
    assert.deepEqual(json.mentions.map((u) => u.id), [botId.toString()]);
    assert.equal(json.mentions[0].bot, true);
    assert.deepEqual(json.mention_roles, ["42"]);
    assert.deepEqual(json.embeds, [embed], "embeds verbatim");
    assert.deepEqual(json.components, components, "components verbatim");
    assert.equal(json.attachments[0].id, "77");
    assert.equal(json.attachments[0].size, 1234);
    assert.equal(json.attachments[0].proxy_url, "https://cdn.example.com/a.png");
    assert.equal(json.nonce, "n-1");
    assert.equal(json.pinned, false);
    assert.equal(json.type, 0);
    assert.equal(json.flags, 0);
    assert.equal("referenced_message" in json, false, "left out unless asked");
    assert.equal("webhook_id" in json, false);
    assert.equal("application_id" in json, false);
    assert.equal("message_reference" in json, false);
    assert.deepEqual(usersOfMessage(message), [authorId, botId]);
  });

  it("a bare message: empty lists, no nonce; edits and pins show", () => {
    const bare = create(MessageSchema, {
      id: messageId + 1n,
      channelId,
      authorId,
      content: "x",
      pinned: true,
      editedTimestamp: timestampFromMs(Date.UTC(2024, 0, 2)),
    });
    const json = discordMessage(bare, lookup);
    assertMatches(MessageResponseSchema, json, "bare message");
    assert.equal(json.edited_timestamp, "2024-01-02T00:00:00.000Z");
    assert.equal(json.pinned, true);
    assert.deepEqual([json.mentions, json.mention_roles, json.embeds, json.components, json.attachments], [[], [], [], [], []]);
    assert.equal("nonce" in json, false);
  });

  it("a reply: message_reference, type 19, the referenced message (or null when it is gone)", () => {
    const reply = create(MessageSchema, {
      id: messageId + 2n,
      channelId,
      guildId,
      authorId: botId,
      content: "yes?",
      type: 19,
      mentions: [authorId],
      messageReference: { type: 0, messageId, channelId, guildId },
    });
    const json = discordMessage(reply, lookup, { referencedMessage: message });
    assertMatches(MessageResponseSchema, json, "reply");
    assert.deepEqual(json.message_reference, { type: 0, message_id: messageId.toString(), channel_id: channelId.toString(), guild_id: guildId.toString() });
    assert.equal(json.referenced_message?.id, messageId.toString());
    assert.equal(json.referenced_message?.content, message.content);
    const orphan = discordMessage(reply, lookup, { referencedMessage: null });
    assertMatches(MessageResponseSchema, orphan, "reply to a deleted message");
    assert.equal(orphan.referenced_message, null);
    assert.deepEqual(usersOfMessage(reply, message), [botId, authorId, authorId, botId]);
  });

  it("webhook and application messages: the webhook shows as the author, with its overrides", () => {
    const hooked = create(MessageSchema, {
      id: messageId + 3n,
      channelId,
      guildId,
      authorId,
      content: "from a hook",
      webhookId: 555n,
      applicationId: 666n,
      authorUsernameOverride: "Hooky",
      interactionMetadata: { id: "1", type: 2, user: { id: "1", username: "x", discriminator: "0", avatar: null, global_name: null } },
    });
    const json = discordMessage(hooked, lookup);
    assert.equal(json.webhook_id, "555");
    assert.equal(json.application_id, "666");
    assert.equal(json.author.id, "555");
    assert.equal(json.author.username, "Hooky");
    assert.equal(json.author.bot, true);
    assert.deepEqual(json.interaction_metadata, hooked.interactionMetadata);
  });

  it("a channel webhook's message: the webhook is the author, no account looked up", () => {
    const hookId = 1300000000000000077n;
    const hooked = create(MessageSchema, { id: messageId + 4n, channelId, guildId, authorId: hookId, webhookId: hookId, content: "hook", authorUsernameOverride: "Herald", mentions: [authorId] });
    assert.deepEqual(usersOfMessage(hooked), [authorId], "only the mentions need accounts");
    const json = discordMessage(hooked, lookup);
    assertMatches(MessageResponseSchema, json, "a webhook's message");
    assert.deepEqual([json.author.id, json.author.username, json.author.discriminator, json.author.bot, json.author.avatar], [String(hookId), "Herald", "0000", true, null]);
  });

  it("MESSAGE_CONTENT: withheld from other apps, except their own messages, mentions and DMs", () => {
    const other = 1300000000000000099n;
    assert.deepEqual(withheldContentFields(message, other), MESSAGE_CONTENT_FIELDS);
    assert.deepEqual(withheldContentFields(message, botId), [], "the bot is mentioned");
    assert.deepEqual(withheldContentFields(message, authorId), [], "the author");
    const dm = create(MessageSchema, { ...message, guildId: 0n });
    assert.deepEqual(withheldContentFields(dm, other), [], "a DM");

    const json = discordMessage(message, lookup);
    const hidden = withoutContent(json, withheldContentFields(message, other));
    assertMatches(MessageResponseSchema, hidden, "message without content");
    assert.equal(hidden.content, "");
    assert.deepEqual([hidden.embeds, hidden.attachments, hidden.components], [[], [], []]);
    assert.deepEqual(hidden.mentions, json.mentions, "mentions stay");
    assert.equal(json.content, message.content, "the original is untouched");
    assert.equal(withoutContent(json, []), json);
  });

  it("reactions: present only when someone reacted, custom emoji as name and id", () => {
    const reacted = create(MessageSchema, {
      id: message.id,
      channelId,
      guildId,
      authorId,
      content: "react to me",
      reactions: [
        { emoji: "👍", count: 2, me: true },
        { emoji: "party:1300000000000000077", count: 1, me: false },
      ],
    });
    const json = discordMessage(reacted, lookup);
    assertMatches(MessageResponseSchema, json, "message with reactions");
    for (const reaction of json.reactions ?? []) assertMatches(MessageReactionResponseSchema, reaction, "reaction");
    assert.deepEqual(json.reactions?.[0], { emoji: { id: null, name: "👍" }, count: 2, count_details: { burst: 0, normal: 2 }, me: true, me_burst: false, burst_colors: [] });
    assert.deepEqual(json.reactions?.[1].emoji, { id: "1300000000000000077", name: "party" });
    assert.equal("reactions" in discordMessage(message, lookup), false);
  });

  it("timestamps come from the id", () => {
    assert.equal(snowflakeTime(0n), "2015-01-01T00:00:00.000Z");
    assert.equal(snowflakeTime(messageId | 0x3fffffn), "2024-01-01T00:00:00.000Z");
  });
});
