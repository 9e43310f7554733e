import { newInteractionKeyPair } from "../interactions/signatures.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { usernameSchema, validate } from "../accounts/account-rules.js";
import {
  applicationChangesSchema,
  applicationCreationSchema,
  botUsernameBase,
  botUsernameCandidate,
  parsePermissions,
} from "./application-rules.js";

function fieldsOf(run: () => unknown): Record<string, string> {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof InvalidFieldsError, String(err));
    return Object.fromEntries(err.errors.map((e) => [e.path.join("."), e.code]));
  }
  assert.fail("expected InvalidFieldsError");
}

describe("bot usernames", () => {
  const cases: [string, string][] = [
    ["My Cool Bot!", "my_cool_bot"],
    ["Crème Brûlée", "creme_brulee"],
    ["  spaced   out  ", "spaced_out"],
    ["dots...and..more", "dots.and.more"],
    ["__edge__", "edge"],
    ["MixedCASE.Bot", "mixedcase.bot"],
    ["🤖", "bot"],
    ["x", "bot"],
    ["日本語ボット", "bot"],
    ["a".repeat(40), "a".repeat(32)],
    [`${"a".repeat(31)}.b`, "a".repeat(31)],
  ];
  for (const [name, expected] of cases) {
    it(`"${name}" → "${expected}"`, () => assert.equal(botUsernameBase(name), expected));
  }

  it("every base and suffixed candidate is a valid username", () => {
    const names = [...cases.map(([n]) => n), "a.", ".a.b.", "x".repeat(200), "Über-Bot 3000", "..", "a_b_c_d_e_f_g_h_i_j_k_l_m_n_o_p_q_r"];
    for (const name of names) {
      const base = botUsernameBase(name);
      for (let attempt = 0; attempt < 4; attempt++) {
        const candidate = botUsernameCandidate(base, attempt, () => 42);
        assert.ok(usernameSchema.safeParse(candidate).success, `${name} → ${candidate}`);
      }
    }
  });

  it("the first try is the base, later ones add a four-digit suffix within 32 characters", () => {
    assert.equal(botUsernameCandidate("helper", 0), "helper");
    assert.equal(botUsernameCandidate("helper", 1, () => 7), "helper_0007");
    assert.equal(botUsernameCandidate("a".repeat(32), 2, () => 1234), `${"a".repeat(27)}_1234`);
    assert.equal(botUsernameCandidate(`${"a".repeat(26)}.bbbbb`, 1, () => 1), `${"a".repeat(26)}_0001`);
  });
});

describe("permissions", () => {
  it("accepts decimal strings and safe integers up to 64 bits", () => {
    assert.equal(parsePermissions("8", "permissions"), 8n);
    assert.equal(parsePermissions(2048, "permissions"), 2048n);
    assert.equal(parsePermissions("0", "permissions"), 0n);
    assert.equal(parsePermissions("18446744073709551615", "permissions"), (1n << 64n) - 1n);
  });

  it("refuses anything else, naming the field", () => {
    for (const bad of ["18446744073709551616", "-1", "8.5", "0x10", "", "abc", 1.5, -3, true, null, {}, 2 ** 60]) {
      assert.deepEqual(fieldsOf(() => parsePermissions(bad, "permissions")), { permissions: "NUMBER_TYPE_COERCE" }, String(bad));
    }
  });
});

describe("application fields", () => {
  it("a new application needs a name of 1 to 128 characters; the description is optional, up to 400", () => {
    assert.deepEqual(validate(applicationCreationSchema, { name: "  Helper  ", team_id: null }), { name: "Helper", description: "" });
    assert.deepEqual(validate(applicationCreationSchema, { name: "é".repeat(128), description: "d".repeat(400) }).description.length, 400);
    assert.deepEqual(fieldsOf(() => validate(applicationCreationSchema, {})), { name: "BASE_TYPE_REQUIRED" });
    assert.deepEqual(fieldsOf(() => validate(applicationCreationSchema, { name: "   " })), { name: "BASE_TYPE_BAD_LENGTH" });
    assert.deepEqual(fieldsOf(() => validate(applicationCreationSchema, { name: "n".repeat(129), description: "d".repeat(401) })), {
      name: "BASE_TYPE_BAD_LENGTH",
      description: "BASE_TYPE_MAX_LENGTH",
    });
    assert.deepEqual(fieldsOf(() => validate(applicationCreationSchema, { name: 5 })), { name: "BASE_TYPE_STRING" });
  });

  it("changes: every field optional; null clears description and icon; booleans checked", () => {
    assert.deepEqual(validate(applicationChangesSchema, {}), {});
    assert.deepEqual(validate(applicationChangesSchema, { description: null, icon: null, bot_public: false }), {
      description: null,
      icon: null,
      bot_public: false,
    });
    assert.deepEqual(fieldsOf(() => validate(applicationChangesSchema, { bot_public: "yes", name: "" })), {
      bot_public: "BASE_TYPE_BOOLEAN",
      name: "BASE_TYPE_BAD_LENGTH",
    });
  });

  it("flags: only the limited gateway intent flags may be set", () => {
    const limited = (1 << 13) | (1 << 15) | (1 << 19);
    assert.deepEqual(validate(applicationChangesSchema, { flags: limited }), { flags: limited });
    assert.deepEqual(validate(applicationChangesSchema, { flags: 0 }), { flags: 0 });
    assert.deepEqual(fieldsOf(() => validate(applicationChangesSchema, { flags: 1 << 12 })), { flags: "APPLICATION_FLAGS_INVALID" });
    assert.ok("flags" in fieldsOf(() => validate(applicationChangesSchema, { flags: "524288" })));
  });
});

describe("verify keys", () => {
  it("are 32-byte Ed25519 public keys in hex, a new one each time", () => {
    const keys = new Set(Array.from({ length: 20 }, () => newInteractionKeyPair().verifyKey));
    assert.equal(keys.size, 20);
    for (const key of keys) assert.match(key, /^[0-9a-f]{64}$/);
  });
});
