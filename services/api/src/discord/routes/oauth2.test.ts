import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { FieldError } from "../../accounts/account-errors.js";
import { botAuthorizationQuery } from "./oauth2.js";

function check(query: Record<string, string | string[] | undefined>) {
  const errors: FieldError[] = [];
  const { applicationId } = botAuthorizationQuery(query, errors);
  return { applicationId, errors: Object.fromEntries(errors.map((e) => [e.path.join("."), e.code])) };
}

describe("OAuth2 bot authorization query", () => {
  it("takes client_id and a scope list that includes bot", () => {
    assert.deepEqual(check({ client_id: "1234567890123", scope: "bot" }), { applicationId: 1234567890123n, errors: {} });
    assert.deepEqual(check({ client_id: "1234567890123", scope: "applications.commands bot" }).errors, {});
    assert.deepEqual(check({ client_id: ["1234567890123", "5"], scope: "bot+applications.commands" }).applicationId, 1234567890123n);
  });

  it("names every bad parameter at once", () => {
    assert.deepEqual(check({}).errors, { client_id: "BASE_TYPE_REQUIRED", scope: "BASE_TYPE_REQUIRED" });
    assert.deepEqual(check({ client_id: "abc", scope: "identify" }).errors, { client_id: "NUMBER_TYPE_COERCE", scope: "OAUTH2_SCOPE_UNSUPPORTED" });
    assert.deepEqual(check({ client_id: "1234567890123", scope: "bot", redirect_uri: "https://evil.example/" }).errors, {
      redirect_uri: "INVALID_OAUTH2_REDIRECT_URI",
    });
  });
});
