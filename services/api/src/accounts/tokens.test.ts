import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hashToken, issueToken, tokenUserId } from "./tokens.js";

describe("access tokens", () => {
  const userId = 1575154050129760256n;

  it("are <base64url user id>.<base64url 32 random bytes>", () => {
    const { token } = issueToken(userId);
    const [idPart, secret, ...rest] = token.split(".");
    assert.equal(rest.length, 0);
    assert.equal(Buffer.from(idPart, "base64url").toString(), userId.toString());
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(secret, "base64url").length, 32);
  });

  it("are never issued twice", () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => issueToken(userId).token));
    assert.equal(tokens.size, 1000);
  });

  it("are stored as the SHA-256 of the whole token", () => {
    const { token, hash } = issueToken(userId);
    assert.equal(hash.length, 32);
    assert.deepEqual(hash, new Uint8Array(createHash("sha256").update(token).digest()));
    assert.deepEqual(hashToken(token), hash);
    assert.notDeepEqual(hashToken(`${token}x`), hash);
  });

  it("name their user, and anything not shaped like one of ours names nobody", () => {
    assert.equal(tokenUserId(issueToken(userId).token), userId);
    const { token } = issueToken(42n);
    for (const bad of ["", "garbage", token.slice(0, -1), `${token}A`, `Bot ${token}`, `${token.split(".")[0]}`, `bm90LWFuLWlk.${token.split(".")[1]}`]) {
      assert.equal(tokenUserId(bad), undefined, bad);
    }
  });
});
