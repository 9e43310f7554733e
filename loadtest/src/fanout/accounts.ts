// The fan-out benchmark's user accounts: registered over HTTP (POST /auth/register, as any
// client), or — for a Chorus the benchmark started itself, when there are too many to register
// in reasonable time — written straight through the storage contract, as the api writes them.
import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { create } from "@bufbuild/protobuf";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountStorageService, TokenKind } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import type { MeshConnection } from "@chorus/mesh";
import { SnowflakeGenerator } from "@chorus/snowflake";
import { forEachLimited, type DiscordHttp } from "./discord-http.js";

export const PASSWORD = "correct horse battery staple";

export interface Account {
  username: string;
  token: string;
  id: string;
}

export interface AccountsResult {
  accounts: Account[];
  /** How each account was made, with timings. */
  http: { count: number; seconds: number; perSecond: number };
  storage?: { count: number; seconds: number; perSecond: number };
}

/**
 * A token as the api mints them (services/api/src/accounts/tokens.ts): `<base64url user id>.<256
 * random bits, base64url>`, stored as its SHA-256.
 */
function issueToken(userId: bigint): { token: string; hash: Uint8Array } {
  const token = `${Buffer.from(userId.toString()).toString("base64url")}.${randomBytes(32).toString("base64url")}`;
  return { token, hash: new Uint8Array(createHash("sha256").update(token, "utf8").digest()) };
}

const rate = (count: number, ms: number) => ({ count, seconds: Math.round(ms / 100) / 10, perSecond: Math.round((count / Math.max(ms / 1000, 0.001)) * 10) / 10 });

/**
 * `count` accounts named `<prefix><i>`. The first `viaHttp` are registered over HTTP,
 * `concurrency` at a time; the rest (when `mesh` is given) are created through
 * AccountStorageService with the password hash the api computed for the first account (same
 * password), each with a USER token recorded as the api records it.
 */
export async function makeAccounts(options: {
  http: DiscordHttp;
  prefix: string;
  count: number;
  viaHttp: number;
  concurrency: number;
  mesh?: MeshConnection;
  log: (msg: string) => void;
}): Promise<AccountsResult> {
  const { http, prefix, count } = options;
  const viaHttp = Math.min(count, Math.max(1, options.viaHttp));
  const accounts: Account[] = new Array(count);
  const name = (i: number) => `${prefix}${i}`;

  options.log(`registering ${viaHttp} accounts over HTTP, ${options.concurrency} at a time`);
  let t0 = performance.now();
  let done = 0;
  const progress = setInterval(() => options.log(`  ${done}/${viaHttp} registered`), 10_000);
  try {
    await forEachLimited(
      Array.from({ length: viaHttp }, (_, i) => i),
      options.concurrency,
      async (i) => {
        const { token, id } = await http.register(name(i), PASSWORD);
        accounts[i] = { username: name(i), token, id };
        done++;
      },
    );
  } finally {
    clearInterval(progress);
  }
  const httpStats = rate(viaHttp, performance.now() - t0);
  options.log(`registered ${viaHttp} over HTTP in ${httpStats.seconds} s (${httpStats.perSecond}/s)`);
  if (viaHttp === count) return { accounts, http: httpStats };

  const mesh = options.mesh;
  if (!mesh) throw new Error("accounts beyond the HTTP-registered ones need the mesh (only for a Chorus the benchmark started)");
  const storage = (key: string | bigint) => mesh.clients.client(AccountStorageService, key);
  const found = await storage(name(0)).findUserByLogin({ login: name(0) });
  const passwordHash = found.passwordHash;
  if (!passwordHash) throw new Error("could not read the first account's password hash");
  const ids = new SnowflakeGenerator({ workerId: 29, processId: process.pid % 32 });
  const rest = count - viaHttp;
  options.log(`creating ${rest} accounts through AccountStorageService (api's password hash and token format)`);
  t0 = performance.now();
  done = 0;
  const progress2 = setInterval(() => options.log(`  ${done}/${rest} created`), 10_000);
  try {
    await forEachLimited(
      Array.from({ length: rest }, (_, k) => viaHttp + k),
      64,
      async (i) => {
        const id = ids.next();
        const username = name(i);
        const user = create(UserSchema, { id, username, email: `${username}@example.com`, locale: "en-US" });
        await storage(id).createUser({ user, passwordHash });
        const issued = issueToken(id);
        await storage(id).createToken({ token: { tokenHash: issued.hash, userId: id, kind: TokenKind.USER } });
        accounts[i] = { username, token: issued.token, id: id.toString() };
        done++;
      },
    );
  } finally {
    clearInterval(progress2);
  }
  const storageStats = rate(rest, performance.now() - t0);
  options.log(`created ${rest} through storage in ${storageStats.seconds} s (${storageStats.perSecond}/s)`);
  return { accounts, http: httpStats, storage: storageStats };
}
