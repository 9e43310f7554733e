import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { validate } from "../accounts/account-rules.js";
import {
  createBanSchema,
  createChannelSchema,
  createGuildSchema,
  createInviteSchema,
  createPrivateChannelSchema,
  createRoleSchema,
  listMembersQuerySchema,
  modifyGuildSchema,
  modifyMemberSchema,
  putOverwriteSchema,
  reorderChannelsSchema,
  reorderRolesSchema,
} from "./guild-rules.js";

/** The form errors `input` gets, as "path: CODE" strings. */
function refusals(schema: Parameters<typeof validate>[0], input: unknown): string[] {
  try {
    validate(schema, input);
  } catch (err) {
    assert.ok(err instanceof InvalidFieldsError, String(err));
    return err.errors.map((e) => `${e.path.join(".")}: ${e.code}`);
  }
  assert.fail(`${JSON.stringify(input)} was accepted`);
}

describe("Discord guild request bodies", () => {
  it("guilds: a name of 2 to 100 characters; levels and timeouts from Discord's choices", () => {
    assert.deepEqual(validate(createGuildSchema, { name: "My Guild", region: "us-west", channels: [] }), { name: "My Guild" });
    assert.deepEqual(refusals(createGuildSchema, {}), ["name: BASE_TYPE_REQUIRED"]);
    assert.deepEqual(refusals(createGuildSchema, { name: "x" }), ["name: BASE_TYPE_BAD_LENGTH"]);
    assert.deepEqual(refusals(createGuildSchema, { name: 5 }), ["name: BASE_TYPE_STRING"]);
    assert.deepEqual(refusals(createGuildSchema, []), [": DICT_TYPE_CONVERT"]);
    assert.deepEqual(
      refusals(modifyGuildSchema, { afk_timeout: 61, verification_level: 9, system_channel_id: "abc", owner_id: -1 }).sort(),
      ["afk_timeout: BASE_TYPE_CHOICES", "owner_id: NUMBER_TYPE_COERCE", "system_channel_id: NUMBER_TYPE_COERCE", "verification_level: BASE_TYPE_CHOICES"],
    );
    // null clears; ids come out as bigint.
    assert.deepEqual(validate(modifyGuildSchema, { description: null, system_channel_id: "123456789012345678" }), {
      description: null,
      system_channel_id: 123456789012345678n,
    });
  });

  it("channels: Discord's bounds, guild channel types only, overwrites checked item by item", () => {
    const channel = validate(createChannelSchema, {
      name: "voice",
      type: 2,
      bitrate: "64000",
      user_limit: 10,
      permission_overwrites: [{ id: "42", type: 0, allow: "1024", deny: 2048 }],
    });
    assert.equal(channel.bitrate, 64000);
    assert.deepEqual(channel.permission_overwrites, [{ id: 42n, type: 0, allow: 1024n, deny: 2048n }]);
    assert.deepEqual(
      refusals(createChannelSchema, {
        name: "",
        type: 1,
        topic: "x".repeat(1025),
        rate_limit_per_user: 21601,
        bitrate: 10,
        user_limit: 1.5,
        nsfw: "yes",
        permission_overwrites: [{ id: "1", type: 0 }, { id: "nope", type: 3, allow: "0x10" }],
      }).sort(),
      [
        "bitrate: NUMBER_TYPE_MIN",
        "name: BASE_TYPE_BAD_LENGTH",
        "nsfw: BOOLEAN_TYPE_COERCE",
        "permission_overwrites.1.allow: NUMBER_TYPE_COERCE",
        "permission_overwrites.1.id: NUMBER_TYPE_COERCE",
        "permission_overwrites.1.type: BASE_TYPE_CHOICES",
        "rate_limit_per_user: NUMBER_TYPE_MAX",
        "topic: BASE_TYPE_MAX_LENGTH",
        "type: BASE_TYPE_CHOICES",
        "user_limit: NUMBER_TYPE_COERCE",
      ],
    );
    assert.deepEqual(refusals(createChannelSchema, { name: "a", permission_overwrites: "all" }), ["permission_overwrites: LIST_TYPE_CONVERT"]);
    assert.deepEqual(refusals(putOverwriteSchema, { allow: "1" }), ["type: BASE_TYPE_REQUIRED"]);
    // Permissions are 64 bits at most.
    assert.deepEqual(refusals(putOverwriteSchema, { type: 1, deny: (1n << 64n).toString() }), ["deny: NUMBER_TYPE_COERCE"]);
    assert.equal(validate(putOverwriteSchema, { type: 1, deny: ((1n << 64n) - 1n).toString() }).deny, (1n << 64n) - 1n);
  });

  it("reorders: lists of ids and positions", () => {
    assert.deepEqual(validate(reorderChannelsSchema, [{ id: "5", position: 2, parent_id: null, lock_permissions: true }]), [
      { id: 5n, position: 2, parent_id: null, lock_permissions: true },
    ]);
    assert.deepEqual(refusals(reorderChannelsSchema, { id: "5" }), [": LIST_TYPE_CONVERT"]);
    assert.deepEqual(refusals(reorderRolesSchema, [{ position: 1 }, { id: "x", position: -1 }]).sort(), [
      "0.id: BASE_TYPE_REQUIRED",
      "1.id: NUMBER_TYPE_COERCE",
      "1.position: NUMBER_TYPE_MIN",
    ]);
  });

  it("roles, members, bans and invites", () => {
    assert.deepEqual(validate(createRoleSchema, {}), {});
    assert.deepEqual(refusals(createRoleSchema, { name: "x".repeat(101), color: 0x1000000, permissions: "-1", hoist: 1 }).sort(), [
      "color: NUMBER_TYPE_MAX",
      "hoist: BOOLEAN_TYPE_COERCE",
      "name: BASE_TYPE_BAD_LENGTH",
      "permissions: NUMBER_TYPE_COERCE",
    ]);
    assert.deepEqual(validate(modifyMemberSchema, { nick: null, roles: ["7", 8] }), { nick: null, roles: [7n, 8n] });
    assert.deepEqual(refusals(modifyMemberSchema, { nick: "n".repeat(33), roles: ["x"] }).sort(), ["nick: BASE_TYPE_MAX_LENGTH", "roles.0: NUMBER_TYPE_COERCE"]);
    assert.deepEqual(refusals(createBanSchema, { delete_message_seconds: 604801 }), ["delete_message_seconds: NUMBER_TYPE_MAX"]);
    assert.deepEqual(refusals(createInviteSchema, { max_age: -1, max_uses: 101 }).sort(), ["max_age: NUMBER_TYPE_MIN", "max_uses: NUMBER_TYPE_MAX"]);
    assert.deepEqual(validate(listMembersQuerySchema, { limit: "50", after: "0" }), { limit: 50, after: 0n });
  });

  it("private channels: recipient_id, or recipients (one for a DM, several for a group DM)", () => {
    assert.deepEqual(validate(createPrivateChannelSchema, { recipient_id: "9" }), { recipients: [9n], name: undefined });
    assert.deepEqual(validate(createPrivateChannelSchema, { recipients: ["9", "10", "9"], name: "trio" }), { recipients: [9n, 10n], name: "trio" });
    assert.deepEqual(refusals(createPrivateChannelSchema, {}), ["recipient_id: BASE_TYPE_REQUIRED"]);
    assert.deepEqual(refusals(createPrivateChannelSchema, { recipients: Array.from({ length: 10 }, (_, i) => String(i + 1)) }), [
      "recipients: BASE_TYPE_MAX_LENGTH",
    ]);
  });
});
