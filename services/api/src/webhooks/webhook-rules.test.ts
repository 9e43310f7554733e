import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { createWebhookBody, editWebhookMessage, executeWebhookMessage, isTokenShaped, modifyWebhookBody, newWebhookToken, webhookTokenHash } from "./webhook-rules.js";

const CHANNEL = 1300000000000000010n;
const PNG = `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).toString("base64")}`;

/** The dotted paths and codes of an InvalidFieldsError thrown by `work`. */
function fieldsOf(work: () => unknown): Record<string, string> {
  try {
    work();
  } catch (err) {
    assert.ok(err instanceof InvalidFieldsError, String(err));
    return Object.fromEntries(err.errors.map((e) => [e.path.join("."), e.code]));
  }
  assert.fail("expected InvalidFieldsError");
}

const button = (style: number) => (style === 5 ? { type: 2, style, label: "Go", url: "https://example.com" } : { type: 2, style, label: "Go", custom_id: `b${style}` });

describe("webhook rules", () => {
  it("names: 1 to 80 characters, never clyde or discord in any case", () => {
    assert.deepEqual(createWebhookBody({ name: "Captain Hook" }), { name: "Captain Hook" });
    assert.equal(createWebhookBody({ name: "x".repeat(80) }).name.length, 80);
    for (const [name, code] of [
      ["", "BASE_TYPE_BAD_LENGTH"],
      ["x".repeat(81), "BASE_TYPE_BAD_LENGTH"],
      ["ClYdE", "USERNAME_INVALID_CONTAINS"],
      ["my discord hook", "USERNAME_INVALID_CONTAINS"],
      [42, "BASE_TYPE_STRING"],
    ] as const) {
      assert.deepEqual(fieldsOf(() => createWebhookBody({ name })), { name: code }, String(name));
    }
    assert.deepEqual(fieldsOf(() => createWebhookBody({})), { name: "BASE_TYPE_REQUIRED" });
  });

  it("avatars become their hash; a PATCH names only what it has (null clears the avatar)", () => {
    assert.match(createWebhookBody({ name: "a", avatar: PNG }).avatar ?? "", /^[0-9a-f]{32}$/);
    assert.deepEqual(fieldsOf(() => createWebhookBody({ name: "a", avatar: "data:image/png;base64,AAAA" })), { avatar: "IMAGE_INVALID" });
    assert.deepEqual(modifyWebhookBody({}), {});
    assert.deepEqual(modifyWebhookBody({ avatar: null }), { avatar: null });
    assert.deepEqual(modifyWebhookBody({ name: "b", channel_id: "1300000000000000011" }), { name: "b", channelId: 1300000000000000011n });
    assert.deepEqual(fieldsOf(() => modifyWebhookBody({ channel_id: "nope" })), { channel_id: "NUMBER_TYPE_COERCE" });
  });

  it("tokens: 68 URL-safe characters, distinct, hashed to 32 bytes", () => {
    const a = newWebhookToken();
    const b = newWebhookToken();
    assert.match(a, /^[A-Za-z0-9_-]{68}$/);
    assert.notEqual(a, b);
    assert.equal(webhookTokenHash(a).length, 32);
    assert.deepEqual(webhookTokenHash(a), webhookTokenHash(a));
    assert.ok(isTokenShaped(a));
    assert.ok(!isTokenShaped("a/b") && !isTokenShaped(""));
  });

  it("execute: overrides ride on the message; replies, stickers and nonces are dropped", () => {
    const send = executeWebhookMessage({ content: "hi", username: "Bot", avatar_url: "https://example.com/a.png", nonce: "x", message_reference: { message_id: "1" } }, CHANNEL, [], false);
    assert.equal(send.message?.content, "hi");
    assert.equal(send.message?.authorUsernameOverride, "Bot");
    assert.equal(send.message?.authorAvatarOverride, "https://example.com/a.png");
    assert.equal(send.message?.messageReference, undefined);
    assert.equal(send.message?.nonce, "");
    assert.deepEqual(fieldsOf(() => executeWebhookMessage({ content: "hi", username: "clyde" }, CHANNEL, [], false)), { username: "USERNAME_INVALID_CONTAINS" });
    assert.deepEqual(fieldsOf(() => executeWebhookMessage({ content: "hi", avatar_url: "ftp://x" }, CHANNEL, [], false)), { avatar_url: "URL_TYPE_INVALID_URL" });
  });

  it("components: a plain webhook sends link buttons only, each other one named; an application's webhook any", () => {
    const rows = [{ type: 1, components: [button(5), button(1)] }, { type: 1, components: [button(4)] }];
    assert.deepEqual(fieldsOf(() => executeWebhookMessage({ components: rows }, CHANNEL, [], false)), {
      "components.0.components.1": "COMPONENT_VALIDATION_FAILED",
      "components.1.components.0": "COMPONENT_VALIDATION_FAILED",
    });
    assert.equal(executeWebhookMessage({ components: rows }, CHANNEL, [], true).message?.components?.length, 2);
    assert.equal(executeWebhookMessage({ components: [{ type: 1, components: [button(5)] }] }, CHANNEL, [], false).message?.components?.length, 1);
    assert.deepEqual(fieldsOf(() => editWebhookMessage({ components: rows }, 1n, [], [], false)), {
      "components.0.components.1": "COMPONENT_VALIDATION_FAILED",
      "components.1.components.0": "COMPONENT_VALIDATION_FAILED",
    });
  });
});
