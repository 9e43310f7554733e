import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { validate } from "../accounts/account-rules.js";
import { allowedMentionsSchema, applyAllowedMentions, parseMentions, type AllowedMentions } from "./mentions.js";

const A = 1300000000000000001n;
const B = 1300000000000000002n;
const R = 1300000000000000003n;

describe("mentions parsed from content", () => {
  const cases: [string, string, ReturnType<typeof parseMentions>][] = [
    ["a user", `hi <@${A}>`, { users: [A], roles: [], everyone: false }],
    ["a nickname mention", `hi <@!${A}>`, { users: [A], roles: [], everyone: false }],
    ["a role", `hi <@&${R}>`, { users: [], roles: [R], everyone: false }],
    ["@everyone", "hey @everyone", { users: [], roles: [], everyone: true }],
    ["@here", "@here now", { users: [], roles: [], everyone: true }],
    ["each once, in order", `<@${B}> <@${A}> <@!${B}> <@&${R}> <@&${R}>`, { users: [B, A], roles: [R], everyone: false }],
    ["nothing in plain text", "everyone, here: a <@name> and <@&>", { users: [], roles: [], everyone: false }],
    ["no zero id", "<@0>", { users: [], roles: [], everyone: false }],
    ["an id past 2^63", "<@99999999999999999999>", { users: [], roles: [], everyone: false }],
  ];
  for (const [name, content, expected] of cases) it(name, () => assert.deepEqual(parseMentions(content), expected));
});

describe("allowed_mentions", () => {
  const parsed = { users: [A, B], roles: [R], everyone: true };
  const allowed = (a: Partial<AllowedMentions>): AllowedMentions => ({ parse: [], users: [], roles: [], repliedUser: false, ...a });
  const filters: [string, AllowedMentions | undefined, ReturnType<typeof parseMentions>][] = [
    ["unset: everything parsed counts", undefined, parsed],
    ["parse nothing: nothing counts", allowed({}), { users: [], roles: [], everyone: false }],
    ["parse users", allowed({ parse: ["users"] }), { users: [A, B], roles: [], everyone: false }],
    ["parse roles and everyone", allowed({ parse: ["roles", "everyone"] }), { users: [], roles: [R], everyone: true }],
    ["listed users only (and only if written)", allowed({ users: [B, 42n] }), { users: [B], roles: [], everyone: false }],
    ["listed roles with parse users", allowed({ parse: ["users"], roles: [R] }), { users: [A, B], roles: [R], everyone: false }],
  ];
  for (const [name, rule, expected] of filters) it(name, () => assert.deepEqual(applyAllowedMentions(parsed, rule), expected));

  function errorsOf(value: unknown): Record<string, string> {
    try {
      validate(allowedMentionsSchema, value);
      return {};
    } catch (err) {
      if (!(err instanceof InvalidFieldsError)) throw err;
      return Object.fromEntries(err.errors.map((e) => [e.path.join("."), e.code]));
    }
  }
  const ids = (n: number) => Array.from({ length: n }, (_, i) => String(A + BigInt(i)));
  const checks: [string, unknown, Record<string, string>][] = [
    ["every parse value", { parse: ["users", "roles", "everyone"] }, {}],
    ["100 users and 100 roles", { users: ids(100), roles: ids(100), replied_user: true }, {}],
    ["an unknown parse value", { parse: ["users", "channels"] }, { "parse.1": "BASE_TYPE_CHOICES" }],
    ["a repeated parse value", { parse: ["users", "users"] }, { "parse.1": "SET_TYPE_ALREADY_CONTAINS_VALUE" }],
    ["101 users", { users: ids(101) }, { users: "BASE_TYPE_MAX_LENGTH" }],
    ["101 roles", { roles: ids(101) }, { roles: "BASE_TYPE_MAX_LENGTH" }],
    ["a repeated user", { users: [String(A), String(A)] }, { "users.1": "SET_TYPE_ALREADY_CONTAINS_VALUE" }],
    ["a user that is no snowflake", { users: ["ada"] }, { "users.0": "NUMBER_TYPE_COERCE" }],
    ["parse users with a users list", { parse: ["users"], users: [String(A)] }, { "": "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE" }],
    ["parse roles with a roles list", { parse: ["roles"], roles: [String(R)] }, { "": "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE" }],
    ["replied_user not a bool", { replied_user: "yes" }, { replied_user: "BOOLEAN_TYPE_COERCE" }],
  ];
  for (const [name, value, expected] of checks) it(`validates ${name}`, () => assert.deepEqual(errorsOf(value), expected));
});
