import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verifyKey } from "discord-interactions";
import { newInteractionKeyPair, signedHeaders, signInteraction, verifyInteraction } from "./signatures.js";

describe("interaction signatures", () => {
  it("signs timestamp + body so that discord-interactions' verifyKey accepts it, and refuses tampering", async () => {
    const keys = newInteractionKeyPair();
    assert.match(keys.verifyKey, /^[0-9a-f]{64}$/);
    assert.match(keys.privateKey, /^[0-9a-f]{64}$/);
    const body = JSON.stringify({ type: 1 });
    const headers = signedHeaders(keys.privateKey, body);
    assert.equal(await verifyKey(body, headers["x-signature-ed25519"], headers["x-signature-timestamp"], keys.verifyKey), true);
    assert.equal(await verifyKey(body + " ", headers["x-signature-ed25519"], headers["x-signature-timestamp"], keys.verifyKey), false);
    assert.equal(await verifyKey(body, headers["x-signature-ed25519"], "1", keys.verifyKey), false);
    assert.equal(await verifyKey(body, headers["x-signature-ed25519"], headers["x-signature-timestamp"], newInteractionKeyPair().verifyKey), false);
  });

  it("verifies its own signatures and nothing else", () => {
    const keys = newInteractionKeyPair();
    const signature = signInteraction(keys.privateKey, "123", "body");
    assert.equal(verifyInteraction(keys.verifyKey, "123", "body", signature), true);
    assert.equal(verifyInteraction(keys.verifyKey, "124", "body", signature), false);
    assert.equal(verifyInteraction(keys.verifyKey, "123", "body", "zz"), false);
  });
});
