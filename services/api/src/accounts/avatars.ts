import { createHash } from "node:crypto";
import { InvalidFieldsError, fieldError } from "./account-errors.js";

/** Discord's avatar limit. */
export const MAX_AVATAR_BYTES = 10 * 1024 * 1024;

/** The image types Discord accepts for avatars, each with the bytes its files start with. */
const IMAGE_SIGNATURES: Record<string, (bytes: Buffer) => boolean | undefined> = {
  "image/png": (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/gif": (b) => b.subarray(0, 4).toString("latin1") === "GIF8",
  "image/webp": (b) => b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP",
};

const DATA_URI = /^data:(image\/[a-z]+);base64,([A-Za-z0-9+/]+={0,2})$/;

const invalidImage = (field: string) =>
  new InvalidFieldsError([fieldError(field, "IMAGE_INVALID", "Invalid image data. Send a PNG, JPEG, GIF or WebP image as a base64 data URI.")]);

/** An image sent as a data URI, checked: its bytes are of the type it declares. */
export interface DataUriImage {
  contentType: "image/png" | "image/jpeg" | "image/gif" | "image/webp";
  bytes: Buffer;
}

/** Discord's words for a size limit: "256.0 kb", "10240.0 kb". */
const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(1)} kb`;

/**
 * Decodes an image sent as a data URI ("data:image/png;base64,..."): see checkImage.
 */
export function decodeImageDataUri(dataUri: string, field: string, maxBytes: number): DataUriImage {
  const match = DATA_URI.exec(dataUri);
  if (!match) throw invalidImage(field);
  return checkImage(Buffer.from(match[2], "base64"), field, maxBytes, match[1]);
}

/**
 * Checks an image's bytes: PNG, JPEG, GIF or WebP, whose bytes must start as that type's files
 * do (a declared type alone proves nothing; without one, the bytes say which). Refusals name
 * `field`: IMAGE_INVALID, or BINARY_TYPE_MAX_SIZE past `maxBytes`.
 */
export function checkImage(bytes: Buffer, field: string, maxBytes: number, declaredType?: string): DataUriImage {
  const contentType = declaredType ?? Object.keys(IMAGE_SIGNATURES).find((type) => IMAGE_SIGNATURES[type](bytes));
  const accepts = contentType ? IMAGE_SIGNATURES[contentType] : undefined;
  if (!accepts) throw invalidImage(field);
  if (bytes.length > maxBytes) {
    throw new InvalidFieldsError([fieldError(field, "BINARY_TYPE_MAX_SIZE", `File cannot be larger than ${kilobytes(maxBytes)}.`)]);
  }
  if (!accepts(bytes)) throw invalidImage(field);
  return { contentType: contentType as DataUriImage["contentType"], bytes };
}

/**
 * The avatar hash of an image sent as a data URI ("data:image/png;base64,..."), as Discord
 * names avatars: 32 hex digits of the image's digest, prefixed "a_" for animated (GIF)
 * images. Only the hash is kept for now: serving the image itself comes with the CDN.
 */
export function avatarHash(dataUri: string, field = "avatar"): string {
  const { contentType, bytes } = decodeImageDataUri(dataUri, field, MAX_AVATAR_BYTES);
  const digest = createHash("sha256").update(bytes).digest("hex").slice(0, 32);
  return contentType === "image/gif" ? `a_${digest}` : digest;
}
