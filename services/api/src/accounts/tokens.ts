import { createHash, randomBytes } from "node:crypto";

/** Random bytes in a token: 256 bits, beyond any guessing. */
const SECRET_BYTES = 32;

/**
 * Access tokens are opaque to clients and shaped like Discord's: `<user id>.<secret>`, both
 * parts base64url, e.g. `MTI4MzQ1Njc4OTAxMjM0NTY3.kq3...`. The user id part lets a client
 * (and our routing) tell whose token it is without a lookup; it grants nothing by itself.
 * Storage keeps only the SHA-256 of the whole token, so a leaked database holds no usable
 * token. A plain hash (no salt, no KDF) is enough here: the secret is 256 random bits, not a
 * password that could be guessed.
 */
const TOKEN_SHAPE = /^([A-Za-z0-9_-]{1,28})\.([A-Za-z0-9_-]{43})$/;

export interface IssuedToken {
  token: string;
  /** SHA-256 of the token: what storage records. */
  hash: Uint8Array;
}

export function issueToken(userId: bigint): IssuedToken {
  const token = `${Buffer.from(userId.toString()).toString("base64url")}.${randomBytes(SECRET_BYTES).toString("base64url")}`;
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(token, "utf8").digest());
}

/** The user id a well-formed token names, or undefined when the token is not one of ours. */
export function tokenUserId(token: string): bigint | undefined {
  const match = TOKEN_SHAPE.exec(token);
  if (!match) return undefined;
  const id = Buffer.from(match[1], "base64url").toString("utf8");
  return /^[1-9]\d{0,19}$/.test(id) ? BigInt(id) : undefined;
}
