import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { validate } from "../accounts/account-rules.js";
import { checkImage, decodeImageDataUri } from "../accounts/avatars.js";
import { createEmojiSchema, EMOJI_LIMITS, modifyEmojiSchema } from "./emoji-rules.js";
import { isAnimated } from "./emojis.js";

const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");
const GIF = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00", "latin1");
const uri = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString("base64")}`;

/** The fields and Discord codes a refusal names. */
function refusal(fn: () => unknown): Record<string, string> {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InvalidFieldsError, String(err));
    return Object.fromEntries(err.errors.map((e) => [e.path.join("."), e.code]));
  }
  assert.fail("accepted");
}

describe("custom emoji bodies", () => {
  it("takes names of 2-32 letters, digits and underscores, and optional roles", () => {
    const body = validate(createEmojiSchema, { name: "Party_Parrot_2", image: "data:...", roles: ["1300000000000000001"] });
    assert.deepEqual([body.name, body.roles], ["Party_Parrot_2", [1300000000000000001n]]);
    assert.equal(validate(createEmojiSchema, { name: "x".repeat(32), image: "i" }).name.length, 32);
    assert.deepEqual(validate(modifyEmojiSchema, {}), {});
    assert.deepEqual(validate(modifyEmojiSchema, { roles: null }), { roles: null });
  });

  const refused: [string, unknown, Record<string, string>][] = [
    ["a one-letter name", { name: "a", image: "i" }, { name: "BASE_TYPE_BAD_LENGTH" }],
    ["a 33-letter name", { name: "x".repeat(33), image: "i" }, { name: "BASE_TYPE_BAD_LENGTH" }],
    ["a dash", { name: "no-dash", image: "i" }, { name: "STRING_TYPE_REGEX" }],
    ["a space", { name: "no space", image: "i" }, { name: "STRING_TYPE_REGEX" }],
    ["an accent", { name: "café", image: "i" }, { name: "STRING_TYPE_REGEX" }],
    ["a number as name", { name: 42, image: "i" }, { name: "BASE_TYPE_STRING" }],
    ["nothing", {}, { name: "BASE_TYPE_REQUIRED", image: "BASE_TYPE_REQUIRED" }],
    ["roles not a list", { name: "ok", image: "i", roles: "1" }, { roles: "LIST_TYPE_CONVERT" }],
    ["a role that is no snowflake", { name: "ok", image: "i", roles: ["x"] }, { "roles.0": "NUMBER_TYPE_COERCE" }],
  ];
  for (const [what, body, fields] of refused) it(`refuses ${what}`, () => assert.deepEqual(refusal(() => validate(createEmojiSchema, body)), fields));
});

describe("custom emoji images", () => {
  it("reads the type from the bytes and checks a declared one against them", () => {
    assert.equal(decodeImageDataUri(uri("image/png", PNG), "image", EMOJI_LIMITS.imageBytes).contentType, "image/png");
    assert.equal(checkImage(GIF, "image", EMOJI_LIMITS.imageBytes).contentType, "image/gif");
    assert.deepEqual(refusal(() => decodeImageDataUri(uri("image/png", GIF), "image", EMOJI_LIMITS.imageBytes)), { image: "IMAGE_INVALID" });
    assert.deepEqual(refusal(() => decodeImageDataUri(uri("image/svg+xml", Buffer.from("<svg/>")), "image", EMOJI_LIMITS.imageBytes)), { image: "IMAGE_INVALID" });
    assert.deepEqual(refusal(() => checkImage(Buffer.from("hello"), "image", EMOJI_LIMITS.imageBytes)), { image: "IMAGE_INVALID" });
    assert.deepEqual(refusal(() => decodeImageDataUri("not a uri", "image", EMOJI_LIMITS.imageBytes)), { image: "IMAGE_INVALID" });
  });

  it("takes 256 KiB and not a byte more", () => {
    const at = Buffer.concat([PNG, Buffer.alloc(EMOJI_LIMITS.imageBytes - PNG.length)]);
    assert.equal(checkImage(at, "image", EMOJI_LIMITS.imageBytes).bytes.length, EMOJI_LIMITS.imageBytes);
    assert.deepEqual(refusal(() => checkImage(Buffer.concat([at, Buffer.alloc(1)]), "image", EMOJI_LIMITS.imageBytes)), { image: "BINARY_TYPE_MAX_SIZE" });
  });

  it("counts GIFs and animated WebPs (VP8X with the animation flag) as animated", () => {
    const webp = (flags: number) => Buffer.concat([Buffer.from("RIFF\0\0\0\0WEBPVP8X", "latin1"), Buffer.alloc(4), Buffer.from([flags]), Buffer.alloc(9)]);
    assert.equal(isAnimated("image/gif", GIF), true);
    assert.equal(isAnimated("image/png", PNG), false);
    assert.equal(isAnimated("image/webp", webp(0x02)), true);
    assert.equal(isAnimated("image/webp", webp(0x10)), false);
  });
});
