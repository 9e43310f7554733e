import { createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MeshClients } from "@chorus/mesh";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountStorageService, TokenKind } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { bareToken } from "./gateway-protocol.js";

/** Who a gateway token belongs to. */
export interface Identity {
  user: User;
  bot: boolean;
  /** The bot's application flags (its application has the bot's id); 0 for persons. */
  applicationFlags: bigint;
}

/**
 * The user id a Chorus token names (`<base64url user id>.<secret>`, see the api's tokens.ts):
 * it only routes the lookup to a storage node; the token's SHA-256 decides.
 */
export function tokenUserId(token: string): bigint | undefined {
  const match = /^([A-Za-z0-9_-]{1,28})\.[A-Za-z0-9_-]{43}$/.exec(token);
  if (!match) return undefined;
  const id = Buffer.from(match[1], "base64url").toString("utf8");
  return /^[1-9]\d{0,19}$/.test(id) ? BigInt(id) : undefined;
}

const isNotFound = (err: unknown) => err instanceof ConnectError && err.code === Code.NotFound;

/** Resolves IDENTIFY/RESUME tokens through account storage (never caching: a revoked token stops working). */
export class Authenticator {
  constructor(private readonly clients: MeshClients) {}

  /** The identity of a token; undefined when it is not a valid token (4004). */
  async authenticate(rawToken: string): Promise<Identity | undefined> {
    const token = bareToken(rawToken);
    const claimed = tokenUserId(token);
    if (claimed === undefined) return undefined;
    const storage = this.clients.client(AccountStorageService, claimed);
    const tokenHash = new Uint8Array(createHash("sha256").update(token, "utf8").digest());
    let record;
    try {
      record = (await storage.resolveToken({ tokenHash })).token!;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (record.userId !== claimed) return undefined;
    let user;
    try {
      user = (await storage.getUser({ userId: record.userId })).user!;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const bot = record.kind === TokenKind.BOT;
    let applicationFlags = 0n;
    if (bot) {
      try {
        applicationFlags = (await storage.getApplication({ applicationId: user.id })).application!.flags;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return { user, bot, applicationFlags };
  }
}
