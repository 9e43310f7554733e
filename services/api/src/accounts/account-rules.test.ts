import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "./account-errors.js";
import { loginSchema, profileChangesSchema, registrationSchema, validate } from "./account-rules.js";

/** The field errors `validate` throws, as "path:CODE" strings. */
function problems(schema: Parameters<typeof validate>[0], input: unknown): string[] {
  try {
    validate(schema, input);
  } catch (err) {
    assert.ok(err instanceof InvalidFieldsError, String(err));
    for (const e of err.errors) assert.ok(e.message.length > 0, `${e.code} has a message`);
    return err.errors.map((e) => `${e.path.join(".")}:${e.code}`);
  }
  return [];
}

describe("account validation", () => {
  const valid = { username: "alice.b_2", email: "alice@example.com", password: "long enough" };

  it("accepts a valid registration, keeping Discord's extra fields out of the result", () => {
    const parsed = validate(registrationSchema, { ...valid, consent: true, date_of_birth: "2000-01-01", global_name: "Alice" });
    assert.deepEqual(parsed, { ...valid, global_name: "Alice" });
    assert.deepEqual(problems(registrationSchema, { ...valid, global_name: null }), []);
  });

  it("names every missing field with BASE_TYPE_REQUIRED", () => {
    assert.deepEqual(problems(registrationSchema, {}), ["username:BASE_TYPE_REQUIRED", "email:BASE_TYPE_REQUIRED", "password:BASE_TYPE_REQUIRED"]);
    assert.deepEqual(problems(loginSchema, { login: "" }), ["login:BASE_TYPE_REQUIRED", "password:BASE_TYPE_REQUIRED"]);
  });

  it("applies Discord's username rules: 2-32 of a-z 0-9 _ . without '..'", () => {
    for (const ok of ["ab", "a".repeat(32), "a.b", "_.9_", "x__y"]) assert.deepEqual(problems(registrationSchema, { ...valid, username: ok }), [], ok);
    assert.deepEqual(problems(registrationSchema, { ...valid, username: "a" }), ["username:BASE_TYPE_BAD_LENGTH"]);
    assert.deepEqual(problems(registrationSchema, { ...valid, username: "a".repeat(33) }), ["username:BASE_TYPE_BAD_LENGTH"]);
    for (const bad of ["Alice", "a..b", "a b", "a@b", "émile", "a-b"]) {
      assert.deepEqual(problems(registrationSchema, { ...valid, username: bad }), ["username:USERNAME_INVALID_CHARACTERS"], bad);
    }
  });

  it("checks email format, password and global name lengths, and types", () => {
    assert.deepEqual(problems(registrationSchema, { ...valid, email: "nope" }), ["email:EMAIL_TYPE_INVALID_EMAIL"]);
    assert.deepEqual(problems(registrationSchema, { ...valid, email: `${"a".repeat(250)}@x.io` }), ["email:EMAIL_TYPE_INVALID_EMAIL"]);
    assert.deepEqual(problems(registrationSchema, { ...valid, password: "short" }), ["password:BASE_TYPE_BAD_LENGTH"]);
    assert.deepEqual(problems(registrationSchema, { ...valid, password: "p".repeat(73) }), ["password:BASE_TYPE_BAD_LENGTH"]);
    assert.deepEqual(problems(registrationSchema, { ...valid, global_name: "" }), ["global_name:BASE_TYPE_BAD_LENGTH"]);
    // Lengths count characters, not UTF-16 units: 32 emoji are a valid global name.
    assert.deepEqual(problems(registrationSchema, { ...valid, global_name: "😀".repeat(32) }), []);
    assert.deepEqual(problems(registrationSchema, { ...valid, username: 7, email: null }), ["username:BASE_TYPE_STRING", "email:BASE_TYPE_STRING"]);
  });

  it("refuses a body that is not an object at its root", () => {
    assert.deepEqual(problems(registrationSchema, ["x"]), [":DICT_TYPE_CONVERT"]);
    assert.deepEqual(problems(loginSchema, "login"), [":DICT_TYPE_CONVERT"]);
  });

  it("profile changes: every field optional, null clears global_name and avatar", () => {
    assert.deepEqual(validate(profileChangesSchema, {}), {});
    assert.deepEqual(validate(profileChangesSchema, { global_name: null, avatar: null }), { global_name: null, avatar: null });
    assert.deepEqual(problems(profileChangesSchema, { username: "Al", email: "x", global_name: "" }), [
      "username:USERNAME_INVALID_CHARACTERS",
      "global_name:BASE_TYPE_BAD_LENGTH",
      "email:EMAIL_TYPE_INVALID_EMAIL",
    ]);
  });
});
