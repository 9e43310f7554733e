import type { FastifyRequest } from "fastify";
import { UnauthorizedError } from "../accounts/account-errors.js";
import { TokenKind, type Accounts, type Session } from "../accounts/accounts.js";

/**
 * The token of a Discord-style Authorization header and the kind of account it must belong to:
 *   `<token>`         a person's token, as Discord's own clients send it (no prefix)
 *   `Bearer <token>`  a person's token too (Discord's OAuth2 form; libraries such as
 *                     @discordjs/rest can send only `Bot` or `Bearer`)
 *   `Bot <token>`     a bot's token
 */
export function parseAuthorization(header: string | undefined): { token: string; kinds: TokenKind[] } | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  const [scheme, rest] = value.split(/\s+/, 2);
  if (rest !== undefined) {
    if (scheme.toLowerCase() === "bot") return { token: rest, kinds: [TokenKind.BOT] };
    if (scheme.toLowerCase() === "bearer") return { token: rest, kinds: [TokenKind.USER] };
    return undefined;
  }
  return { token: value, kinds: [TokenKind.USER] };
}

/** The caller's session, or UnauthorizedError (answered 401 "401: Unauthorized", code 0). */
export async function requireSession(accounts: Accounts, request: FastifyRequest): Promise<Session> {
  const credentials = parseAuthorization(request.headers.authorization);
  if (!credentials) throw new UnauthorizedError("no Authorization header");
  return accounts.authenticate(credentials.token, credentials.kinds);
}
