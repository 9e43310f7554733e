import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CURRENT_PARAMS, hashPassword, needsRehash, verifyAgainstDecoy, verifyPassword } from "./passwords.js";

describe("password hashing (scrypt)", () => {
  it("verifies the right password and rejects a wrong one", async () => {
    const hash = await hashPassword("correct horse battery staple");
    assert.equal(await verifyPassword("correct horse battery staple", hash), true);
    assert.equal(await verifyPassword("correct horse battery stapler", hash), false);
    assert.equal(await verifyPassword("", hash), false);
  });

  it("encodes the algorithm, its parameters, the salt and the key in one string", async () => {
    const hash = await hashPassword("pw");
    const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(hash);
    assert.ok(match, hash);
    assert.deepEqual([Number(match[1]), Number(match[2]), Number(match[3])], [CURRENT_PARAMS.ln, CURRENT_PARAMS.r, CURRENT_PARAMS.p]);
    assert.equal(Buffer.from(match[4], "base64").length, 16, "128-bit salt");
    assert.equal(Buffer.from(match[5], "base64").length, 32, "256-bit key");
    assert.ok(!hash.includes("pw$"), "the password is not in the hash");
  });

  it("salts every hash: one password hashes differently each time", async () => {
    const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword("same", a), true);
    assert.equal(await verifyPassword("same", b), true);
  });

  it("verifies hashes made with other parameters and flags them for re-hashing", async () => {
    const old = await hashPassword("pw", { ln: 10, r: 8, p: 1 });
    assert.match(old, /^\$scrypt\$ln=10,r=8,p=1\$/);
    assert.equal(await verifyPassword("pw", old), true);
    assert.equal(await verifyPassword("PW", old), false);
    assert.equal(needsRehash(old), true);
    assert.equal(needsRehash(await hashPassword("pw")), false);
  });

  it("treats canonically equivalent passwords as one (Unicode NFKC)", async () => {
    const composed = "caf\u00e9";
    const decomposed = "cafe\u0301";
    assert.notEqual(composed, decomposed);
    assert.equal(await verifyPassword(decomposed, await hashPassword(composed)), true);
  });

  it("refuses malformed or unknown hashes instead of throwing", async () => {
    for (const bad of ["", "plain text", "$bcrypt$x$y", "$scrypt$ln=99,r=8,p=1$c2FsdA$a2V5", "$scrypt$ln=15,r=8,p=1$$"]) {
      assert.equal(await verifyPassword("pw", bad), false, bad);
      assert.equal(needsRehash(bad), true, bad);
    }
  });

  it("the decoy verification used for unknown logins never succeeds", async () => {
    assert.equal(await verifyAgainstDecoy("anything"), false);
  });
});
