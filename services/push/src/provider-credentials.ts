import { importPKCS8, SignJWT, type CryptoKey } from "jose";
import { Agent, request as httpRequest } from "undici";

/** The fields of a Google service-account key file FCM needs. */
export interface GoogleServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";

/**
 * OAuth 2.0 access tokens for a service account (RFC 7523 JWT bearer grant): a JWT signed
 * with the account's RS256 key is exchanged at the token URI for a bearer token, kept until
 * five minutes before it expires and shared by every FCM sink of the process. One exchange
 * runs at a time; a token the server refused (401) is dropped so the next call gets a new one.
 */
export class GoogleAccessTokens {
  private current?: { token: string; refreshAt: number };
  private pending?: Promise<string>;
  private key?: Promise<CryptoKey>;
  private readonly agent: Agent;
  readonly tokenUri: string;

  constructor(
    private readonly account: GoogleServiceAccount,
    /** `ca`: the certificates to trust for the token URI (default: Node's). */
    options: { tokenUri?: string; scope?: string; ca?: string[] } = {},
    private readonly scope = options.scope ?? FCM_SCOPE,
  ) {
    this.tokenUri = options.tokenUri ?? account.token_uri ?? GOOGLE_TOKEN_URI;
    this.agent = new Agent({ connections: 1, connect: options.ca ? { ca: options.ca } : undefined });
  }

  /** The current token without waiting, when there is one that is not due for renewal. */
  ready(): string | undefined {
    return this.current && Date.now() < this.current.refreshAt ? this.current.token : undefined;
  }

  async get(): Promise<string> {
    const ready = this.ready();
    if (ready) return ready;
    this.pending ??= this.exchange().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async exchange(): Promise<string> {
    this.key ??= importPKCS8(this.account.private_key, "RS256");
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: this.scope })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(this.account.private_key_id ? { kid: this.account.private_key_id } : {}) })
      .setIssuer(this.account.client_email)
      .setAudience(this.tokenUri)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(await this.key);
    const response = await httpRequest(this.tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
      signal: AbortSignal.timeout(10_000),
      dispatcher: this.agent,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`OAuth token exchange at ${this.tokenUri} failed: HTTP ${response.statusCode} ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new Error(`OAuth token exchange at ${this.tokenUri} returned no access_token`);
    const lifetime = (body.expires_in ?? 3600) * 1000;
    this.current = { token: body.access_token, refreshAt: Date.now() + Math.max(lifetime - 300_000, lifetime / 2) };
    return body.access_token;
  }
}

export interface ApnsKey {
  /** Apple Developer team id (the token's issuer). */
  teamId: string;
  /** Id of the signing key (the token's kid). */
  keyId: string;
  /** The .p8 key: a PKCS#8 P-256 private key, PEM. */
  privateKey: string;
}

/** Apple refuses provider tokens older than an hour, and refreshing more than every 20 minutes. */
const APNS_TOKEN_REFRESH_MS = 50 * 60 * 1000;

/**
 * APNs token-based authentication: an ES256 JWT (iss = team, iat, kid = key id) reused by
 * every request and every APNs sink until it is 50 minutes old. A token APNs calls expired or
 * invalid (403) is dropped and signed again.
 */
export class ApnsProviderToken {
  private current?: { token: string; issuedAt: number };
  private pending?: Promise<string>;
  private key?: Promise<CryptoKey>;

  constructor(private readonly apnsKey: ApnsKey) {}

  async get(): Promise<string> {
    if (this.current && Date.now() - this.current.issuedAt < APNS_TOKEN_REFRESH_MS) return this.current.token;
    this.pending ??= this.sign().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async sign(): Promise<string> {
    this.key ??= importPKCS8(this.apnsKey.privateKey, "ES256");
    const issuedAt = Date.now();
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: this.apnsKey.keyId })
      .setIssuer(this.apnsKey.teamId)
      .setIssuedAt(Math.floor(issuedAt / 1000))
      .sign(await this.key);
    this.current = { token, issuedAt };
    return token;
  }

  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }
}
