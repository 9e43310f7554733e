import { createHash } from "node:crypto";
import { InvalidFieldsError, fieldError } from "./account-errors.js";

/** Discord's avatar limit. */
export const MAX_AVATAR_BYTES = 10 * 1024 * 1024;

/** The image types Discord accepts for avatars, each with the bytes its files start with. */
const IMAGE_SIGNATURES: Record<string, (bytes: Buffer) => boolean> = {
  "image/png": (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/gif": (b) => b.subarray(0, 4).toString("latin1") === "GIF8",
  "image/webp": (b) => b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP",
};

const DATA_URI = /^data:(image\/[a-z]+);base64,([A-Za-z0-9+/]+={0,2})$/;

const invalidImage = (field: string) =>
  new InvalidFieldsError([fieldError(field, "IMAGE_INVALID", "Invalid image data. Send a PNG, JPEG, GIF or WebP image as a base64 data URI.")]);

/**
 * The avatar hash of an image sent as a data URI ("data:image/png;base64,..."), as Discord
 * names avatars: 32 hex digits of the image's digest, prefixed "a_" for animated (GIF)
 * images. Only the hash is kept for now: serving the image itself comes with the CDN.
 */
export function avatarHash(dataUri: string, field = "avatar"): string {
  const match = DATA_URI.exec(dataUri);
  const mime = match?.[1];
  const accepts = mime ? IMAGE_SIGNATURES[mime] : undefined;
  if (!match || !accepts) throw invalidImage(field);
  const bytes = Buffer.from(match[2], "base64");
  if (bytes.length > MAX_AVATAR_BYTES) {
    throw new InvalidFieldsError([fieldError(field, "BINARY_TYPE_MAX_SIZE", `File cannot be larger than ${MAX_AVATAR_BYTES / 1024} kb.`)]);
  }
  if (!accepts(bytes)) throw invalidImage(field);
  const digest = createHash("sha256").update(bytes).digest("hex").slice(0, 32);
  return mime === "image/gif" ? `a_${digest}` : digest;
}
