import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { commandInit, validateCommand } from "./command-rules.js";

/** The "path: code" of every refusal of `body` (empty when it is valid). */
function refusals(body: unknown): string[] {
  try {
    validateCommand(body);
    return [];
  } catch (err) {
    assert.ok(err instanceof InvalidFieldsError, String(err));
    return err.errors.map((e) => `${e.path.join(".")}: ${e.code}`);
  }
}

const slash = (extra: Record<string, unknown> = {}) => ({ name: "ping", description: "Replies with pong", ...extra });
const opt = (type: number, name: string, extra: Record<string, unknown> = {}) => ({ type, name, description: `the ${name}`, ...extra });

/** Asserts that `body` is refused exactly at `path` (with `code` when given). */
function refusedAt(body: unknown, path: string, code?: string): void {
  const found = refusals(body);
  assert.ok(
    found.some((r) => r.startsWith(`${path}: `) && (code === undefined || r === `${path}: ${code}`)),
    `expected a refusal at "${path}"${code ? ` (${code})` : ""}, got ${JSON.stringify(found)}`,
  );
}

describe("application command rules", () => {
  it("accepts well-formed commands of every type", () => {
    assert.deepEqual(refusals(slash()), []);
    assert.deepEqual(refusals({ name: "Show Profile", type: 2 }), []);
    assert.deepEqual(refusals({ name: "Report Message", type: 3, description: "" }), []);
    assert.deepEqual(refusals(slash({ name: "héllo-wörld_2" })), []);
    assert.deepEqual(refusals(slash({ name: "नमस्ते" })), []);
    assert.deepEqual(refusals(slash({ name: "สวัสดี" })), []);
    assert.deepEqual(
      refusals(
        slash({
          options: [
            opt(3, "text", { required: true, min_length: 0, max_length: 6000 }),
            opt(4, "count", { min_value: -5, max_value: 5, choices: [{ name: "one", value: 1 }] }),
            opt(10, "ratio", { min_value: 0.5, max_value: 1.5, autocomplete: true }),
            opt(7, "where", { channel_types: [0, 2, 5] }),
            opt(5, "flag"),
            opt(6, "who"),
            opt(8, "role"),
            opt(9, "any"),
            opt(11, "file"),
          ],
          default_member_permissions: "8",
          contexts: [0, 1, 2],
          integration_types: [0, 1],
          nsfw: false,
          name_localizations: { fr: "pingue", "pt-BR": "pingar" },
          description_localizations: { fr: "Répond pong" },
        }),
      ),
      [],
    );
    assert.deepEqual(
      refusals(
        slash({
          options: [
            opt(2, "admin", { options: [opt(1, "ban", { options: [opt(6, "user", { required: true })] }), opt(1, "kick")] }),
            opt(1, "info"),
          ],
        }),
      ),
      [],
    );
  });

  it("refuses bad names", () => {
    refusedAt(slash({ name: "" }), "name", "BASE_TYPE_BAD_LENGTH");
    refusedAt(slash({ name: "a".repeat(33) }), "name", "BASE_TYPE_BAD_LENGTH");
    refusedAt(slash({ name: "Ping" }), "name", "APPLICATION_COMMAND_INVALID_NAME");
    refusedAt(slash({ name: "two words" }), "name", "APPLICATION_COMMAND_INVALID_NAME");
    refusedAt(slash({ name: "bang!" }), "name", "APPLICATION_COMMAND_INVALID_NAME");
    refusedAt({ name: "x".repeat(33), type: 2 }, "name", "BASE_TYPE_BAD_LENGTH");
    refusedAt({ type: 2 }, "name", "BASE_TYPE_REQUIRED");
    refusedAt(slash({ name_localizations: { fr: "Pingue" } }), "name_localizations.fr", "APPLICATION_COMMAND_INVALID_NAME");
    refusedAt(slash({ name_localizations: { xx: "pingue" } }), "name_localizations.xx", "LOCALE_INVALID");
    refusedAt(slash({ name: 5 }), "name", "BASE_TYPE_STRING");
  });

  it("refuses bad descriptions", () => {
    refusedAt({ name: "ping" }, "description", "BASE_TYPE_BAD_LENGTH");
    refusedAt(slash({ description: "" }), "description", "BASE_TYPE_BAD_LENGTH");
    refusedAt(slash({ description: "d".repeat(101) }), "description", "BASE_TYPE_BAD_LENGTH");
    assert.deepEqual(refusals(slash({ description: "d".repeat(100) })), []);
    refusedAt({ name: "Show", type: 2, description: "no" }, "description", "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION");
    refusedAt({ name: "Show", type: 3, options: [opt(3, "x")] }, "options", "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS");
    refusedAt(slash({ description_localizations: { de: "" } }), "description_localizations.de", "BASE_TYPE_BAD_LENGTH");
  });

  it("refuses bad types and top-level fields", () => {
    refusedAt(slash({ type: 4 }), "type", "BASE_TYPE_CHOICES");
    refusedAt(slash({ type: 0 }), "type", "BASE_TYPE_CHOICES");
    refusedAt(slash({ default_member_permissions: "admin" }), "default_member_permissions", "NUMBER_TYPE_COERCE");
    refusedAt(slash({ default_member_permissions: "-1" }), "default_member_permissions", "NUMBER_TYPE_COERCE");
    assert.deepEqual(refusals(slash({ default_member_permissions: null })), []);
    assert.deepEqual(refusals(slash({ default_member_permissions: 0 })), []);
    refusedAt(slash({ contexts: [] }), "contexts", "BASE_TYPE_MIN_LENGTH");
    refusedAt(slash({ contexts: [0, 3] }), "contexts.1", "BASE_TYPE_CHOICES");
    refusedAt(slash({ integration_types: [2] }), "integration_types.0", "BASE_TYPE_CHOICES");
    refusedAt(slash({ dm_permission: "yes" }), "dm_permission", "BASE_TYPE_BOOLEAN");
  });

  it("refuses more than 25 options, at any level", () => {
    const many = Array.from({ length: 26 }, (_, i) => opt(3, `o${i}`));
    refusedAt(slash({ options: many }), "options", "BASE_TYPE_MAX_LENGTH");
    refusedAt(slash({ options: [opt(1, "sub", { options: many })] }), "options.0.options", "BASE_TYPE_MAX_LENGTH");
    assert.deepEqual(refusals(slash({ options: many.slice(0, 25) })), []);
  });

  it("refuses bad option names, types and descriptions naming the option", () => {
    refusedAt(slash({ options: [opt(3, "ok"), opt(3, "Bad")] }), "options.1.name", "APPLICATION_COMMAND_INVALID_NAME");
    refusedAt(slash({ options: [opt(3, "")] }), "options.0.name", "BASE_TYPE_BAD_LENGTH");
    refusedAt(slash({ options: [opt(12, "x")] }), "options.0.type", "BASE_TYPE_CHOICES");
    refusedAt(slash({ options: [opt(0, "x")] }), "options.0.type", "BASE_TYPE_CHOICES");
    refusedAt(slash({ options: [{ type: 3, name: "x" }] }), "options.0.description", "BASE_TYPE_REQUIRED");
    refusedAt(slash({ options: [opt(3, "x", { description: "d".repeat(101) })] }), "options.0.description", "BASE_TYPE_BAD_LENGTH");
    refusedAt(slash({ options: [opt(3, "x", { name_localizations: { fr: "Non" } })] }), "options.0.name_localizations.fr", "APPLICATION_COMMAND_INVALID_NAME");
  });

  it("refuses duplicate option names within a level only", () => {
    refusedAt(slash({ options: [opt(3, "a"), opt(4, "a")] }), "options.1.name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS");
    assert.deepEqual(refusals(slash({ options: [opt(1, "a", { options: [opt(3, "a")] }), opt(1, "b", { options: [opt(3, "a")] })] })), []);
    refusedAt(slash({ options: [opt(1, "s", { options: [opt(3, "x"), opt(3, "x")] })] }), "options.0.options.1.name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS");
  });

  it("keeps required options before optional ones", () => {
    refusedAt(slash({ options: [opt(3, "a"), opt(3, "b", { required: true })] }), "options.1.required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID");
    refusedAt(
      slash({ options: [opt(1, "s", { options: [opt(3, "a", { required: false }), opt(3, "b", { required: true })] })] }),
      "options.0.options.1.required",
      "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
    );
    assert.deepEqual(refusals(slash({ options: [opt(3, "a", { required: true }), opt(3, "b")] })), []);
  });

  it("enforces subcommand nesting", () => {
    refusedAt(slash({ options: [opt(1, "sub"), opt(3, "plain")] }), "options.0.type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID");
    refusedAt(slash({ options: [opt(2, "group", { options: [opt(3, "plain")] })] }), "options.0.options.0.type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID");
    refusedAt(slash({ options: [opt(2, "group", { options: [opt(2, "inner")] })] }), "options.0.options.0.type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID");
    refusedAt(slash({ options: [opt(1, "sub", { options: [opt(1, "inner")] })] }), "options.0.options.0.type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID");
    refusedAt(
      slash({ options: [opt(2, "g", { options: [opt(1, "s", { options: [opt(1, "deep")] })] })] }),
      "options.0.options.0.options.0.type",
      "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
    );
    refusedAt(slash({ options: [opt(3, "plain", { options: [opt(3, "x")] })] }), "options.0.options", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID");
    refusedAt(slash({ options: [opt(1, "sub", { required: true })] }), "options.0.required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID");
  });

  it("checks choices: which types, how many, names and value types", () => {
    refusedAt(slash({ options: [opt(5, "flag", { choices: [{ name: "yes", value: "y" }] })] }), "options.0.choices", "APPLICATION_COMMAND_OPTION_CHOICES_INVALID");
    const many = Array.from({ length: 26 }, (_, i) => ({ name: `c${i}`, value: `v${i}` }));
    refusedAt(slash({ options: [opt(3, "s", { choices: many })] }), "options.0.choices", "BASE_TYPE_MAX_LENGTH");
    refusedAt(slash({ options: [opt(3, "s"), opt(3, "t", { choices: [{ name: "", value: "x" }] })] }), "options.1.choices.0.name", "BASE_TYPE_BAD_LENGTH");
    refusedAt(slash({ options: [opt(3, "s", { choices: [{ name: "n".repeat(101), value: "x" }] })] }), "options.0.choices.0.name", "BASE_TYPE_BAD_LENGTH");
    refusedAt(slash({ options: [opt(3, "s", { choices: [{ name: "a", value: 1 }] })] }), "options.0.choices.0.value", "BASE_TYPE_STRING");
    refusedAt(slash({ options: [opt(3, "s", { choices: [{ name: "a", value: "v".repeat(101) }] })] }), "options.0.choices.0.value", "BASE_TYPE_BAD_LENGTH");
    refusedAt(slash({ options: [opt(4, "i", { choices: [{ name: "a", value: 1.5 }] })] }), "options.0.choices.0.value", "NUMBER_TYPE_COERCE");
    refusedAt(slash({ options: [opt(4, "i", { choices: [{ name: "a", value: "1" }] })] }), "options.0.choices.0.value", "NUMBER_TYPE_COERCE");
    refusedAt(slash({ options: [opt(10, "n", { choices: [{ name: "a", value: 2 ** 54 }] })] }), "options.0.choices.0.value", "NUMBER_TYPE_MAX");
    refusedAt(slash({ options: [opt(3, "s", { choices: [{ name: "a", value: "1" }, { name: "a", value: "2" }] })] }), "options.0.choices.1.name");
    refusedAt(slash({ options: [opt(3, "s", { choices: [{ name: "a" }] })] }), "options.0.choices.0.value", "BASE_TYPE_REQUIRED");
    assert.deepEqual(refusals(slash({ options: [opt(10, "n", { choices: [{ name: "half", value: 0.5 }] })] })), []);
  });

  it("keeps autocomplete and choices apart, and autocomplete to the types that have it", () => {
    refusedAt(slash({ options: [opt(3, "s", { autocomplete: true, choices: [{ name: "a", value: "a" }] })] }), "options.0.autocomplete", "AUTOCOMPLETE_AND_CHOICES_ERROR");
    refusedAt(slash({ options: [opt(6, "u", { autocomplete: true })] }), "options.0.autocomplete", "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_INVALID");
    assert.deepEqual(refusals(slash({ options: [opt(3, "s", { autocomplete: true, choices: [] })] })), []);
  });

  it("checks min/max values and lengths", () => {
    refusedAt(slash({ options: [opt(4, "i", { min_value: 5, max_value: 1 })] }), "options.0.min_value", "APPLICATION_COMMAND_OPTION_MIN_MAX_INVALID");
    refusedAt(slash({ options: [opt(4, "i", { min_value: 1.5 })] }), "options.0.min_value", "NUMBER_TYPE_COERCE");
    refusedAt(slash({ options: [opt(3, "s", { min_value: 1 })] }), "options.0.min_value", "APPLICATION_COMMAND_OPTION_VALUE_BOUNDS_INVALID");
    refusedAt(slash({ options: [opt(10, "n", { max_value: 2 ** 54 })] }), "options.0.max_value", "NUMBER_TYPE_MAX");
    refusedAt(slash({ options: [opt(3, "s", { min_length: 10, max_length: 5 })] }), "options.0.min_length", "APPLICATION_COMMAND_OPTION_MIN_MAX_INVALID");
    refusedAt(slash({ options: [opt(3, "s", { max_length: 6001 })] }), "options.0.max_length", "NUMBER_TYPE_MAX");
    refusedAt(slash({ options: [opt(3, "s", { min_length: -1 })] }), "options.0.min_length", "NUMBER_TYPE_MAX");
    refusedAt(slash({ options: [opt(3, "s", { max_length: 0 })] }), "options.0.max_length", "NUMBER_TYPE_MIN");
    refusedAt(slash({ options: [opt(4, "i", { max_length: 5 })] }), "options.0.max_length", "APPLICATION_COMMAND_OPTION_LENGTH_BOUNDS_INVALID");
    refusedAt(slash({ options: [opt(3, "s", { min_length: 1.5 })] }), "options.0.min_length");
  });

  it("checks channel_types", () => {
    refusedAt(slash({ options: [opt(3, "s", { channel_types: [0] })] }), "options.0.channel_types", "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_INVALID");
    refusedAt(slash({ options: [opt(7, "c", { channel_types: [0, 99] })] }), "options.0.channel_types.1", "BASE_TYPE_CHOICES");
  });

  it("refuses a command over 8000 characters in all", () => {
    const options = Array.from({ length: 25 }, (_, i) => opt(3, `o${i}`, { description: "d".repeat(100), choices: Array.from({ length: 25 }, (_, j) => ({ name: "n".repeat(10), value: `v${j}`.padEnd(10, "v") })) }));
    refusedAt(slash({ options }), "", "APPLICATION_COMMAND_TOO_LARGE");
  });

  it("reports every bad field of a body at once", () => {
    const found = refusals({ name: "Bad Name", description: "", options: [opt(3, "X")] });
    assert.deepEqual(found.sort(), ["description: BASE_TYPE_BAD_LENGTH", "name: APPLICATION_COMMAND_INVALID_NAME", "options.0.name: APPLICATION_COMMAND_INVALID_NAME"]);
  });

  it("stores what it validated, normalized", () => {
    const init = commandInit(
      validateCommand(slash({ default_member_permissions: 8, options: [opt(4, "n", { choices: [{ name: "one", value: 1 }], min_value: 0 })] })),
    );
    assert.equal(init.type, 1);
    assert.equal(init.defaultMemberPermissions, "8");
    assert.equal(init.options![0].choices![0].value!.case, "numberValue");
    assert.equal(init.options![0].minValue, 0);
    assert.equal(commandInit(validateCommand({ name: "Show", type: 2, description: null })).description, "");
    assert.equal(commandInit(validateCommand(slash())).defaultMemberPermissions, undefined);
  });
});
