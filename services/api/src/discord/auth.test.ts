import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TokenKind } from "../accounts/accounts.js";
import { parseAuthorization } from "./auth.js";

describe("Discord Authorization header", () => {
  it("a bare token or a Bearer token is a person's; a Bot token is a bot's", () => {
    assert.deepEqual(parseAuthorization("abc.def"), { token: "abc.def", kinds: [TokenKind.USER] });
    assert.deepEqual(parseAuthorization("Bearer abc.def"), { token: "abc.def", kinds: [TokenKind.USER] });
    assert.deepEqual(parseAuthorization("bearer  abc.def "), { token: "abc.def", kinds: [TokenKind.USER] });
    assert.deepEqual(parseAuthorization("Bot abc.def"), { token: "abc.def", kinds: [TokenKind.BOT] });
  });

  it("no header, an empty one or an unknown scheme carries no token", () => {
    for (const header of [undefined, "", "   ", "Basic dXNlcjpwYXNz", "Bot"]) {
      const parsed = parseAuthorization(header);
      // "Bot" alone is a bare (and useless) token, never a bot's.
      if (header === "Bot") assert.deepEqual(parsed, { token: "Bot", kinds: [TokenKind.USER] });
      else assert.equal(parsed, undefined, header);
    }
  });
});
