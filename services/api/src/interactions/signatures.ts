import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

/**
 * Ed25519 keys and signatures of interactions, as Discord uses them: the application's public
 * key (`verify_key`) and private key are 32 bytes in hex; a request is signed over
 * `timestamp + body` and carries the signature in `X-Signature-Ed25519` (hex) and the
 * timestamp in `X-Signature-Timestamp`.
 */

/** DER prefixes that wrap a raw 32-byte Ed25519 key as PKCS#8 (private) or SPKI (public). */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export interface InteractionKeyPair {
  /** Hex public key: Discord's verify_key. */
  verifyKey: string;
  /** Hex private key (seed); kept in storage only. */
  privateKey: string;
}

export function newInteractionKeyPair(): InteractionKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const spki = publicKey.export({ format: "der", type: "spki" });
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  return { verifyKey: spki.subarray(spki.length - 32).toString("hex"), privateKey: pkcs8.subarray(pkcs8.length - 32).toString("hex") };
}

function privateKeyObject(privateKeyHex: string): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(privateKeyHex, "hex")]), format: "der", type: "pkcs8" });
}

/** The hex signature of `timestamp + body`. */
export function signInteraction(privateKeyHex: string, timestamp: string, body: string): string {
  return sign(null, Buffer.from(timestamp + body), privateKeyObject(privateKeyHex)).toString("hex");
}

/** Whether `signatureHex` signs `timestamp + body` for the hex public key. */
export function verifyInteraction(verifyKeyHex: string, timestamp: string, body: string, signatureHex: string): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(verifyKeyHex, "hex")]), format: "der", type: "spki" });
    return verify(null, Buffer.from(timestamp + body), key, Buffer.from(signatureHex, "hex"));
  } catch {
    return false;
  }
}

/** The headers of a signed POST of `body` (timestamp: Unix seconds, as Discord sends it). */
export function signedHeaders(privateKeyHex: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  return {
    "content-type": "application/json",
    "x-signature-ed25519": signInteraction(privateKeyHex, timestamp, body),
    "x-signature-timestamp": timestamp,
  };
}
