import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { ChannelSchema, MemberSchema, RoleSchema } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { ConnectError } from "@connectrpc/connect";
import { commandTargets, resolvedData, selectTargets, targetUserIds, type ResolveContext } from "./interaction-resolved.js";

test("targets of options come from every level, with their paths; focused and non-snowflake values are left out", () => {
  const targets = commandTargets([
    { name: "group", type: 2, options: [{ name: "sub", type: 1, options: [{ name: "who", type: 6, value: "11" }, { name: "n", type: 4, value: 3 }] }] },
    { name: "where", type: 7, value: "22" },
    { name: "partial", type: 9, value: "33", focused: true },
    { name: "bad", type: 8, value: "x" },
  ]);
  assert.deepEqual(targets, [
    { kind: "user", id: 11n, path: "data.options.0.options.0.options.0.value" },
    { kind: "channel", id: 22n, path: "data.options.1.value" },
  ]);
  assert.deepEqual(commandTargets(undefined), []);
});

test("targets of entity selects by component type; a string select has none", () => {
  assert.deepEqual(selectTargets({ component_type: 6, values: ["5", "6"] }), [
    { kind: "role", id: 5n, path: "data.values.0" },
    { kind: "role", id: 6n, path: "data.values.1" },
  ]);
  assert.deepEqual(selectTargets({ component_type: 3, values: ["5"] }), []);
});

const context: ResolveContext = {
  roles: new Map([[100n, create(RoleSchema, { id: 100n, name: "mods" })]]),
  members: new Map([[1n, create(MemberSchema, { userId: 1n, nick: "ada", roleIds: [100n], deaf: true })]]),
  channels: new Map([[200n, create(ChannelSchema, { id: 200n, name: "general", type: 0 })]]),
  permissionsIn: () => 1024n,
  memberPermissions: (id) => (id === 1n ? 8n : 0n),
  users: (id) => create(UserSchema, { id, username: `u${id}` }),
};

test("resolved: members are partial (no user, deaf, mute) with permissions; non-members are users only; a mentionable is a role first", () => {
  const resolved = resolvedData(
    [
      { kind: "user", id: 1n, path: "p0" },
      { kind: "user", id: 2n, path: "p1" },
      { kind: "mentionable", id: 100n, path: "p2" },
      { kind: "channel", id: 200n, path: "p3" },
    ],
    context,
  ) as Record<string, Record<string, Record<string, unknown>>>;
  assert.deepEqual(Object.keys(resolved.users).sort(), ["1", "2"]);
  assert.equal(resolved.users["2"].username, "u2");
  assert.deepEqual(Object.keys(resolved.members), ["1"]);
  const member = resolved.members["1"];
  assert.equal(member.nick, "ada");
  assert.equal(member.permissions, "8");
  assert.deepEqual(member.roles, ["100"]);
  assert.ok(!("user" in member) && !("deaf" in member) && !("mute" in member));
  assert.equal(resolved.roles["100"].name, "mods");
  assert.equal(resolved.channels["200"].name, "general");
  assert.equal(resolved.channels["200"].permissions, "1024");
  assert.deepEqual(targetUserIds([{ kind: "mentionable", id: 100n, path: "" }, { kind: "mentionable", id: 7n, path: "" }], context.roles), [7n]);
  assert.equal(resolvedData([], context), undefined);
});

test("a role or channel not of the guild is refused naming the field", () => {
  assert.throws(() => resolvedData([{ kind: "role", id: 9n, path: "data.options.1.value" }], context), (err: ConnectError) => /data\.options\.1\.value: UNKNOWN_ROLE/.test(err.rawMessage));
  assert.throws(() => resolvedData([{ kind: "channel", id: 9n, path: "data.values.0" }], context), (err: ConnectError) => /data\.values\.0: UNKNOWN_CHANNEL/.test(err.rawMessage));
});
