import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * scrypt parameters: N = 2^ln (CPU/memory cost), r (block size), p (parallelism).
 * The current choice, ln=15 (N=32768), r=8, p=3, is one of OWASP's equivalent minimum settings
 * for scrypt: each hash needs 128·N·r = 32 MiB of memory (which is what makes GPU and ASIC
 * guessing expensive) and about 0.3 s of one core here. p=3 buys the time cost of N=2^17
 * at a quarter of its memory, so more logins fit on one api node at once.
 */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

export const CURRENT_PARAMS: Readonly<ScryptParams> = { ln: 15, r: 8, p: 3 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Refuse absurd parameters in a stored hash (a corrupted row must not exhaust memory). */
const MAX_LN = 20;

/**
 * Encoded hashes follow the PHC string format, so the algorithm and its parameters travel with
 * every hash and can change later without invalidating old ones:
 *   $scrypt$ln=15,r=8,p=3$<salt, base64>$<derived key, base64>
 */
const ENCODED = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, params: ScryptParams, keyBytes: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  // NFKC: the same password typed on two keyboards (composed or decomposed accents) matches.
  const input = password.normalize("NFKC");
  return new Promise((resolve, reject) =>
    scryptCallback(input, salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const b64 = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "");

export async function hashPassword(password: string, params: ScryptParams = CURRENT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

function parse(encoded: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const match = ENCODED.exec(encoded);
  if (!match) return undefined;
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (params.ln < 1 || params.ln > MAX_LN || params.r < 1 || params.p < 1) return undefined;
  return { params, salt: Buffer.from(match[4], "base64"), key: Buffer.from(match[5], "base64") };
}

/** True when `password` matches the encoded hash; false for a wrong password or an unusable hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const stored = parse(encoded);
  if (!stored || stored.key.length === 0) return false;
  const key = await derive(password, stored.salt, stored.params, stored.key.length);
  // Constant time: how much of the key matched must not leak through the response time.
  return timingSafeEqual(key, stored.key);
}

/** True when a hash was made with other parameters than the current ones (re-hash it at the next login). */
export function needsRehash(encoded: string): boolean {
  const stored = parse(encoded);
  return !stored || stored.params.ln !== CURRENT_PARAMS.ln || stored.params.r !== CURRENT_PARAMS.r || stored.params.p !== CURRENT_PARAMS.p;
}

let decoy: Promise<string> | undefined;

/**
 * Spends the time of one verification against a hash nobody can match. Called when a login
 * names no account, so that the response time does not tell whether an account exists.
 */
export async function verifyAgainstDecoy(password: string): Promise<false> {
  decoy ??= hashPassword(randomBytes(16).toString("hex"));
  await verifyPassword(password, await decoy);
  return false;
}
