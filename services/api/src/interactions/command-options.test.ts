import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ApplicationCommandSchema } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { checkCommandInvocation, type CommandSource } from "./command-options.js";
import { parseInteractionToken } from "./interactions.js";

const command = create(ApplicationCommandSchema, {
  id: 100n,
  applicationId: 1n,
  guildId: 7n,
  type: 1,
  name: "order",
  options: [
    { type: 3, name: "size", required: true, choices: [{ name: "S", value: { case: "stringValue", value: "s" } }, { name: "L", value: { case: "stringValue", value: "l" } }] },
    { type: 4, name: "count", minValue: 1, maxValue: 5 },
    { type: 3, name: "note", minLength: 2, maxLength: 4 },
    { type: 5, name: "gift" },
    { type: 6, name: "to" },
  ],
});
const source: CommandSource = { get: async (applicationId, commandId) => (applicationId === 1n && commandId === 100n ? command : undefined) };

/** The refusal's field → code, or "accepted". */
async function check(data: Record<string, unknown>, guildId = 7n, autocomplete = false): Promise<Record<string, string> | "accepted"> {
  try {
    await checkCommandInvocation(source, 1n, guildId, { id: "100", name: "order", type: 1, ...data }, autocomplete);
    return "accepted";
  } catch (err) {
    assert.ok(err instanceof InvalidFieldsError, String(err));
    return Object.fromEntries(err.errors.map((e) => [e.path.join("."), e.code]));
  }
}

describe("command invocations", () => {
  it("accept options of the right types within choices, bounds and lengths", async () => {
    assert.equal(await check({ options: [{ name: "size", type: 3, value: "l" }, { name: "count", type: 4, value: 5 }, { name: "note", type: 3, value: "hey" }, { name: "gift", type: 5, value: true }, { name: "to", type: 6, value: "12345" }] }), "accepted");
    // Autocomplete: a focused partial value, required options may be missing.
    assert.equal(await check({ options: [{ name: "note", type: 3, value: "h", focused: true }] }, 7n, true), "accepted");
  });

  it("refuse, naming the field, unknown commands and options, wrong types, values outside choices or bounds, missing required options", async () => {
    assert.deepEqual(await check({ id: "999" }), { "data.id": "APPLICATION_COMMAND_UNKNOWN" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 3, value: "s" }] }, 8n), { "data.id": "APPLICATION_COMMAND_UNKNOWN" }, "a command of another guild");
    assert.deepEqual(await check({ name: "other" }), { "data.name": "APPLICATION_COMMAND_NAME_MISMATCH" });
    assert.deepEqual(await check({}), { "data.options": "APPLICATION_COMMAND_OPTION_REQUIRED" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 3, value: "xl" }] }), { "data.options.0.value": "BASE_TYPE_CHOICES" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 3, value: "s" }, { name: "count", type: 4, value: 6 }] }), { "data.options.1.value": "NUMBER_TYPE_MAX" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 3, value: "s" }, { name: "count", type: 4, value: 1.5 }] }), { "data.options.1.value": "NUMBER_TYPE_COERCE" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 3, value: "s" }, { name: "note", type: 3, value: "x" }] }), { "data.options.1.value": "BASE_TYPE_MIN_LENGTH" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 4, value: 1 }] }), { "data.options.0.type": "APPLICATION_COMMAND_OPTION_TYPE_INVALID" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 3, value: "s" }, { name: "color", type: 3, value: "x" }] }), { "data.options.1.name": "APPLICATION_COMMAND_OPTION_UNKNOWN" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 3, value: "s" }, { name: "size", type: 3, value: "l" }] }), { "data.options.1.name": "APPLICATION_COMMAND_OPTION_DUPLICATE" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 3, value: "s", focused: true }] }), { "data.options.0.focused": "BASE_TYPE_INVALID" });
    assert.deepEqual(await check({ options: [{ name: "size", type: 3, value: "s" }, { name: "to", type: 6, value: "bob" }] }), { "data.options.1.value": "NUMBER_TYPE_COERCE" });
  });
});

describe("interaction tokens", () => {
  it("carry the owner and interaction ids; anything else is no token", () => {
    const owner = 1234567890123456789n;
    const id = 987654321987654321n;
    assert.deepEqual(parseInteractionToken(`${owner.toString(36)}.${id.toString(36)}.${"a".repeat(43)}`), { ownerId: owner, interactionId: id });
    for (const bad of ["", "abc", "a.b", "0.1.x", "A.b.c", `${(1n << 64n).toString(36)}.1.x`, "1.2.3.4"]) assert.equal(parseInteractionToken(bad), undefined, bad);
  });

  it("hand the command's default_member_permissions on for the owner to check (none: anyone)", async () => {
    const gated = create(ApplicationCommandSchema, { ...command, id: 101n, name: "gated", options: [], defaultMemberPermissions: "32" });
    const locked = create(ApplicationCommandSchema, { ...command, id: 102n, name: "locked", options: [], defaultMemberPermissions: "0" });
    const byId = new Map([[100n, command], [101n, gated], [102n, locked]]);
    const several: CommandSource = { get: async (_applicationId, commandId) => byId.get(commandId) };
    const invoke = (id: bigint, name: string, options?: unknown[]) => checkCommandInvocation(several, 1n, 7n, { id: String(id), name, type: 1, ...(options ? { options } : {}) }, false);
    assert.equal((await invoke(101n, "gated")).requiredPermissions, 32n);
    assert.equal((await invoke(102n, "locked")).requiredPermissions, 0n);
    assert.equal("requiredPermissions" in (await invoke(100n, "order", [{ name: "size", type: 3, value: "s" }])), false);
  });
});
