import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { AllowedMentionsSchema } from "@chorus/contracts/chorus/chat/v1/message_commands_pb";
import { MessageSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { GuildRequestError } from "../guilds/guild-errors.js";
import { AttachmentLimitError, attachmentFilename, placeholderOf, type UploadedFile } from "../attachments/attachment-files.js";
import { bodyOfMessage, bulkDeleteIds, editMessageCommand, sendMessageCommand } from "./message-rules.js";

const channelId = 1300000000000000010n;
const user = 1300000000000000001n;
const role = 1300000000000000003n;
const day = 24 * 60 * 60 * 1000;
/** A snowflake minted at `ms`. */
const idAt = (ms: number, n = 0) => (BigInt(ms - 1420070400000) << 22n) + BigInt(n);

function errorsOf(run: () => unknown): Record<string, string> {
  try {
    run();
    return {};
  } catch (err) {
    if (!(err instanceof InvalidFieldsError)) throw err;
    return Object.fromEntries(err.errors.map((e) => [e.path.join("."), e.code]));
  }
}

describe("POST /channels/:id/messages bodies", () => {
  const invalid: [string, unknown, Record<string, string>][] = [
    ["content of 2001 characters", { content: "x".repeat(2001) }, { content: "BASE_TYPE_MAX_LENGTH" }],
    ["content that is no string", { content: 5 }, { content: "BASE_TYPE_STRING" }],
    ["a nonce of 26 characters", { content: "x", nonce: "n".repeat(26) }, { nonce: "BASE_TYPE_MAX_LENGTH" }],
    ["a nonce that is an object", { content: "x", nonce: {} }, { nonce: "BASE_TYPE_STRING" }],
    ["tts that is no bool", { content: "x", tts: "yes" }, { tts: "BOOLEAN_TYPE_COERCE" }],
    ["a reply without message_id", { content: "x", message_reference: {} }, { "message_reference.message_id": "BASE_TYPE_REQUIRED" }],
    ["a forward", { content: "x", message_reference: { message_id: "1300000000000000009", type: 1 } }, { "message_reference.type": "BASE_TYPE_CHOICES" }],
    [
      "a reply to another channel",
      { content: "x", message_reference: { message_id: "1300000000000000009", channel_id: "1300000000000000011" } },
      { "message_reference.channel_id": "MESSAGE_REFERENCE_INVALID_CHANNEL" },
    ],
    ["a flag a sender may not set", { content: "x", flags: 64 }, { flags: "MESSAGE_FLAGS_INVALID" }],
    ["four stickers", { sticker_ids: ["1", "2", "3", "4"] }, { sticker_ids: "BASE_TYPE_MAX_LENGTH" }],
    ["an attachment that was not uploaded", { content: "x", attachments: [{ id: "0" }] }, { "attachments.0": "ATTACHMENT_NOT_FOUND" }],
    ["an unknown attachment", { content: "x", attachments: [{ id: "1300000000000000001" }] }, { "attachments.0": "ATTACHMENT_NOT_FOUND" }],
    [
      "bad attachment entries",
      { content: "x", attachments: [{ id: "one" }, { id: 1, filename: "" }, { id: 2, description: "d".repeat(1025) }, {}] },
      { "attachments.0.id": "NUMBER_TYPE_COERCE", "attachments.1.filename": "BASE_TYPE_BAD_LENGTH", "attachments.2.description": "BASE_TYPE_MAX_LENGTH", "attachments.3.id": "BASE_TYPE_REQUIRED" },
    ],
    ["eleven attachments", { content: "x", attachments: Array.from({ length: 11 }, (_, id) => ({ id })) }, { attachments: "BASE_TYPE_MAX_LENGTH" }],
    ["bad allowed_mentions", { content: "x", allowed_mentions: { parse: ["nobody"] } }, { "allowed_mentions.parse.0": "BASE_TYPE_CHOICES" }],
    ["a body that is a list", [], { "": "DICT_TYPE_CONVERT" }],
    [
      "many bad fields at once",
      { content: "x".repeat(2001), embeds: [{ title: "t".repeat(257) }], components: [{ type: 2 }] },
      { content: "BASE_TYPE_MAX_LENGTH", "embeds.0.title": "BASE_TYPE_MAX_LENGTH", "components.0.type": "UNION_TYPE_CHOICES" },
    ],
  ];
  for (const [name, body, expected] of invalid) it(`refuses ${name}`, () => assert.deepEqual(errorsOf(() => sendMessageCommand(body, channelId)), expected));

  const empty: [string, unknown][] = [
    ["no body", undefined],
    ["an empty body", {}],
    ["blank content", { content: "  \n " }],
    ["empty lists", { content: "", embeds: [], components: [] }],
  ];
  for (const [name, body] of empty) {
    it(`answers 50006 to ${name}`, () =>
      assert.throws(() => sendMessageCommand(body, channelId), (err) => err instanceof GuildRequestError && err.discordCode === RESTJSONErrorCodes.CannotSendAnEmptyMessage && err.status === 400));
  }

  it("2000 characters, an integer nonce, tts, suppressed notifications", () => {
    const command = sendMessageCommand({ content: "é".repeat(2000), nonce: 12345, tts: true, flags: 4096 }, channelId);
    assert.equal(command.message?.content?.length, 2000);
    assert.equal(command.message?.nonce, "12345");
    assert.equal(command.message?.tts, true);
    assert.equal(command.message?.flags, 4096);
    assert.equal(command.message?.type, 0);
    assert.equal(command.allowedMentions, undefined, "unset: Discord's default, for the owner to apply");
  });

  it("mentions parsed from the content and filtered by allowed_mentions", () => {
    const content = `<@${user}> <@&${role}> @everyone`;
    const all = sendMessageCommand({ content }, channelId).message!;
    assert.deepEqual([all.mentions, all.mentionRoles, all.mentionEveryone], [[user], [role], true]);
    const some = sendMessageCommand({ content, allowed_mentions: { parse: ["roles"], replied_user: true } }, channelId);
    assert.deepEqual([some.message!.mentions, some.message!.mentionRoles, some.message!.mentionEveryone], [[], [role], false]);
    assert.deepEqual(some.allowedMentions, { parse: ["roles"], users: [], roles: [], repliedUser: true });
  });

  it("a reply: type 19, the reference in this channel, fail_if_not_exists by default", () => {
    const command = sendMessageCommand({ content: "re", message_reference: { message_id: "1300000000000000009" } }, channelId);
    assert.equal(command.message?.type, 19);
    assert.deepEqual(command.message?.messageReference, { type: 0, messageId: 1300000000000000009n, channelId, guildId: 0n, failIfNotExists: true });
  });

  it("stickers: none exist yet, so every id is unknown", () => {
    assert.deepEqual(errorsOf(() => sendMessageCommand({ sticker_ids: ["1300000000000000009"] }, channelId)), { "sticker_ids.0": "STICKER_NOT_FOUND" });
  });
});

describe("PATCH /channels/:id/messages/:id bodies", () => {
  const messageId = 1300000000000000020n;

  it("only the fields present, in the update mask; null clears", () => {
    const edit = editMessageCommand({ content: `now <@${user}>`, embeds: null }, messageId);
    assert.deepEqual(edit.updateMask, { paths: ["content", "mentions", "mention_roles", "mention_everyone", "embeds"] });
    assert.equal(edit.message?.content, `now <@${user}>`);
    assert.deepEqual(edit.message?.mentions, [user]);
    assert.deepEqual(edit.message?.embeds, []);
    assert.equal(edit.messageId, messageId);
    assert.deepEqual(editMessageCommand({ flags: 4, attachments: [] }, messageId).updateMask, { paths: ["flags", "attachments"] });
    assert.deepEqual(editMessageCommand({}, messageId).updateMask, { paths: [] });
  });

  it("the same limits as a new message", () => {
    assert.deepEqual(errorsOf(() => editMessageCommand({ content: "x".repeat(2001) }, messageId)), { content: "BASE_TYPE_MAX_LENGTH" });
    assert.deepEqual(errorsOf(() => editMessageCommand({ components: [{ type: 1, components: [] }] }, messageId)), { "components.0.components": "BASE_TYPE_BAD_LENGTH" });
    assert.deepEqual(errorsOf(() => editMessageCommand({ flags: 4096 }, messageId)), { flags: "MESSAGE_FLAGS_INVALID" });
  });
});

describe("attachments", () => {
  const messageId = 1300000000000000020n;
  /** An uploaded file as the message rules see it (stored already, by AttachmentFiles). */
  const upload = (field: string, id: bigint, filename: string): UploadedFile => ({
    field,
    placeholder: placeholderOf(field),
    id,
    channelId,
    attachment: (overrides = {}) => ({
      id,
      filename: overrides.filename ?? filename,
      description: overrides.description ?? "",
      url: `https://cdn.example/${id}/${overrides.filename ?? filename}`,
    }),
  });
  const a = upload("files[0]", 901n, "a.png");
  const b = upload("files[1]", 902n, "b.txt");
  const legacy = upload("file", 903n, "c.gif");
  const summary = (attachments: { id?: bigint; filename?: string; description?: string }[] | undefined) => attachments?.map((x) => [x.id, x.filename ?? "", x.description ?? ""]);

  it("files alone make a message; each becomes an attachment, named by the body's entries first", () => {
    const command = sendMessageCommand({ attachments: [{ id: "1", filename: "renamed.txt", description: "alt text" }] }, channelId, [a, b, legacy]);
    assert.equal(command.message?.content, "");
    assert.deepEqual(summary(command.message?.attachments as never), [
      [902n, "renamed.txt", "alt text"],
      [901n, "a.png", ""],
      [903n, "c.gif", ""],
    ]);
    assert.deepEqual(summary(sendMessageCommand(undefined, channelId, [a]).message?.attachments as never), [[901n, "a.png", ""]]);
  });

  it("an entry naming no upload is ATTACHMENT_NOT_FOUND at its index; a placeholder names one file once", () => {
    assert.deepEqual(errorsOf(() => sendMessageCommand({ attachments: [{ id: 0 }, { id: 5 }] }, channelId, [a])), { "attachments.1": "ATTACHMENT_NOT_FOUND" });
    assert.deepEqual(errorsOf(() => sendMessageCommand({ attachments: [{ id: 0 }, { id: 0 }] }, channelId, [a])), { "attachments.1": "ATTACHMENT_NOT_FOUND" });
  });

  it("an edit keeps the attachments it names by id, adds the uploads, and without a list keeps all it had", () => {
    const kept = 1300000000000000077n;
    const edit = editMessageCommand({ attachments: [{ id: String(kept) }, { id: 0, description: "new" }, { id: String(kept) }] }, messageId, [a]);
    assert.deepEqual(edit.updateMask, { paths: ["attachments"] });
    assert.deepEqual(summary(edit.message?.attachments as never), [
      [kept, "", ""],
      [901n, "a.png", "new"],
    ]);
    assert.deepEqual(summary(editMessageCommand({ content: "more files" }, messageId, [b], [kept, 5n]).message?.attachments as never), [
      [kept, "", ""],
      [5n, "", ""],
      [902n, "b.txt", ""],
    ]);
    assert.deepEqual(editMessageCommand({ attachments: [] }, messageId).message?.attachments, []);
  });

  it("more than 10 in all is 30015", () => {
    const eleven = Array.from({ length: 11 }, (_, i) => upload(`files[${i}]`, 1000n + BigInt(i), `${i}.bin`));
    assert.throws(
      () => editMessageCommand({ content: "x" }, messageId, eleven.slice(0, 2), Array.from({ length: 9 }, (_, i) => BigInt(i + 1))),
      (err) => err instanceof AttachmentLimitError && err.discordCode === RESTJSONErrorCodes.MaximumNumberOfAttachmentsInAMessageReached && err.field.path.join(".") === "attachments",
    );
    assert.equal(sendMessageCommand({}, channelId, eleven.slice(0, 10)).message?.attachments?.length, 10);
  });

  it("filenames as Discord keeps them", () => {
    const cases: [string, string][] = [
      ["photo.png", "photo.png"],
      ["my holiday photo.jpg", "my_holiday_photo.jpg"],
      ["C:\\Users\\me\\x.txt", "x.txt"],
      ["../../etc/passwd", "passwd"],
      ["a\u0000b\u200bc.txt", "abc.txt"],
      ["", "unknown"],
      ["..", "unknown"],
      ["日本語 ファイル.pdf", "日本語_ファイル.pdf"],
    ];
    for (const [given, kept] of cases) assert.equal(attachmentFilename(given), kept, JSON.stringify(given));
    assert.equal([...attachmentFilename("é".repeat(2000))].length, 1024);
    assert.deepEqual([placeholderOf("files[0]"), placeholderOf("files[42]"), placeholderOf("file"), placeholderOf("files[x]")], [0n, 42n, undefined, undefined]);
  });
});

describe("bulk delete", () => {
  const now = Date.UTC(2025, 0, 15);
  it("2 to 100 distinct ids", () => {
    assert.deepEqual(bulkDeleteIds({ messages: [String(idAt(now - day)), String(idAt(now - day)), String(idAt(now - day, 1))] }, now), [idAt(now - day), idAt(now - day, 1)]);
    assert.deepEqual(errorsOf(() => bulkDeleteIds({ messages: [String(idAt(now))] }, now)), { messages: "BASE_TYPE_BAD_LENGTH" });
    assert.deepEqual(errorsOf(() => bulkDeleteIds({ messages: Array.from({ length: 101 }, (_, i) => String(idAt(now, i))) }, now)), { messages: "BASE_TYPE_BAD_LENGTH" });
    assert.deepEqual(errorsOf(() => bulkDeleteIds({}, now)), { messages: "BASE_TYPE_REQUIRED" });
  });
  it("50034 for a message older than two weeks", () => {
    assert.throws(
      () => bulkDeleteIds({ messages: [String(idAt(now)), String(idAt(now - 15 * day))] }, now),
      (err) => err instanceof GuildRequestError && err.discordCode === RESTJSONErrorCodes.OneOfTheMessagesProvidedWasTooOldForBulkDelete,
    );
  });
});

describe("Connect messages go through the same rules", () => {
  it("a valid message: its mentions recomputed from the content", () => {
    const message = create(MessageSchema, { content: `<@${user}>`, mentions: [42n], messageReference: { messageId: 9n, failIfNotExists: false } });
    const allowed = create(AllowedMentionsSchema, { parse: ["users"] });
    const command = sendMessageCommand(bodyOfMessage(message, allowed), channelId);
    assert.deepEqual(command.message?.mentions, [user]);
    assert.equal(command.message?.messageReference?.failIfNotExists, false);
    assert.deepEqual(command.allowedMentions?.parse, ["users"]);
  });
  it("a bad message: named by its Discord path", () => {
    const message = create(MessageSchema, { content: "x", components: [{ type: 1, components: [{ type: 2, style: 1, label: "a" }] }] });
    assert.deepEqual(errorsOf(() => sendMessageCommand(bodyOfMessage(message, undefined), channelId)), { "components.0.components.0.custom_id": "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED" });
  });
});
