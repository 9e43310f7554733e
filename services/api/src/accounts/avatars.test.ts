import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "./account-errors.js";
import { avatarHash } from "./avatars.js";

const PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const GIF_1X1 = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

describe("avatar images", () => {
  it("name an image by 32 hex digits of its digest, 'a_' first for animated GIFs", () => {
    const png = avatarHash(`data:image/png;base64,${PNG_1X1}`);
    assert.match(png, /^[0-9a-f]{32}$/);
    assert.equal(avatarHash(`data:image/png;base64,${PNG_1X1}`), png, "the same image, the same hash");
    assert.match(avatarHash(`data:image/gif;base64,${GIF_1X1}`), /^a_[0-9a-f]{32}$/);
  });

  it("refuse what is not a PNG, JPEG, GIF or WebP image, naming the field", () => {
    for (const bad of [
      "not a data uri",
      "data:text/plain;base64,aGVsbG8=",
      `data:image/jpeg;base64,${PNG_1X1}`, // the bytes are a PNG
      "data:image/png;base64,aGVsbG8=",
      `data:image/png,${PNG_1X1}`,
    ]) {
      assert.throws(() => avatarHash(bad), (err: unknown) => {
        assert.ok(err instanceof InvalidFieldsError);
        assert.deepEqual(err.errors.map((e) => `${e.path.join(".")}:${e.code}`), ["avatar:IMAGE_INVALID"]);
        return true;
      }, bad);
    }
  });
});
