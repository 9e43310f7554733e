import { createECDH, generateKeyPairSync, randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import ece from "http_ece";
import { decodeProtectedHeader, importSPKI, jwtVerify, createLocalJWKSet, type JWK } from "jose";
import type { TestCertificate } from "./tls-certificate.js";

/**
 * Local stand-ins for the push providers, on 127.0.0.1, for tests and benchmarks: an RFC 8030
 * Web Push service that checks VAPID and decrypts every payload (RFC 8291, with `http_ece`),
 * FCM HTTP v1 (plus its OAuth token endpoint, checking the service account's signed
 * assertion) and APNs (checking the ES256 provider token), all over h2c except the Web Push
 * service and the token endpoint (HTTP/1.1); with `tls`, over TLS instead (HTTP/2 and https). Each answers per device token through `script`,
 * can hold every answer until released (to watch in-flight limits), delay answers, and counts
 * the requests it has open at once.
 */

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Picks the answer for one request (by device token or subscription id); undefined: the provider's success. */
export type Script = (token: string, attempt: number) => ScriptedAnswer | undefined;

export interface EndpointOptions {
  /** Delay of every answer (the benchmark's provider latency). */
  delayMs?: number;
  script?: Script;
  /** Keep only counts, not the requests (benchmarks). */
  countOnly?: boolean;
  /** Serve over TLS with this certificate (see makeTestCertificate); clients must trust it. */
  tls?: TestCertificate;
}

/** Bookkeeping shared by the three endpoints. */
class EndpointState<R> {
  open = 0;
  peakOpen = 0;
  answered = 0;
  readonly byStatus = new Map<number, number>();
  readonly received: R[] = [];
  private readonly attempts = new Map<string, number>();
  private holding = false;
  private held: (() => void)[] = [];
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  constructor(readonly options: EndpointOptions) {}

  attempt(token: string): number {
    const n = (this.attempts.get(token) ?? 0) + 1;
    if (!this.options.countOnly) this.attempts.set(token, n);
    return n;
  }

  record(item: R): void {
    if (!this.options.countOnly) this.received.push(item);
  }

  /** Runs `answer` after the delay, or once released while holding; tracks what is open. */
  answerLater(answer: () => void): void {
    this.open++;
    if (this.open > this.peakOpen) this.peakOpen = this.open;
    for (const w of [...this.waiters]) {
      if (this.open >= w.count) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    const done = () => {
      this.open--;
      this.answered++;
      answer();
    };
    if (this.holding) this.held.push(done);
    else if (this.options.delayMs) setTimeout(done, this.options.delayMs);
    else done();
  }

  count(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  hold(): void {
    this.holding = true;
  }

  /** Answers up to `n` held requests (all by default); with no argument also stops holding. */
  release(n?: number): number {
    const batch = n === undefined ? this.held.splice(0) : this.held.splice(0, n);
    if (n === undefined) this.holding = false;
    for (const answer of batch) answer();
    return batch.length;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Resolves once `count` requests are open at the same time. */
  openAtLeast(count: number): Promise<void> {
    if (this.open >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

async function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: http.Server | http2.Http2Server | http2.Http2SecureServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function respond2(stream: ServerHttp2Stream, answer: ScriptedAnswer): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ":status": answer.status, "content-type": "application/json", ...(answer.headers ?? {}) });
  stream.end(answer.body ?? "");
}

// --- FCM -----------------------------------------------------------------------------------

export interface FcmReceived {
  token: string;
  message: { token: string; notification?: { title?: string; body?: string }; data?: Record<string, string>; android?: Record<string, unknown> };
}

/** A service account whose key the local FCM endpoint knows. */
export interface LocalServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id: string;
  project_id: string;
  token_uri: string;
}

export interface FcmEndpoint {
  /** Origin of the FCM API (h2c). */
  readonly url: string;
  readonly serviceAccount: LocalServiceAccount;
  readonly state: EndpointState<FcmReceived>;
  /** Access tokens issued so far (each exchange of a valid assertion). */
  readonly tokensIssued: number;
  /** Makes every access token issued so far invalid (the next request gets a 401). */
  revokeTokens(): void;
  close(): Promise<void>;
}

/** FCM's error body, with the FcmError detail the HTTP v1 API adds. */
export function fcmError(status: number, statusName: string, errorCode?: string): ScriptedAnswer {
  const details = errorCode ? [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode }] : [];
  return { status, body: JSON.stringify({ error: { code: status, message: statusName, status: statusName, details } }) };
}

export async function startFcmEndpoint(options: EndpointOptions & { projectId?: string } = {}): Promise<FcmEndpoint> {
  const projectId = options.projectId ?? "chorus-test";
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyId = randomBytes(8).toString("hex");
  const verifyKey = await importSPKI(publicKey.export({ type: "spki", format: "pem" }).toString(), "RS256");
  const state = new EndpointState<FcmReceived>(options);
  let valid = new Set<string>();
  let issued = 0;

  // The OAuth token endpoint (HTTP/1.1, as Node's fetch speaks).
  const tokenServer = (options.tls ? https.createServer(options.tls) : http.createServer()).on("request", async (req: IncomingMessage, res: ServerResponse) => {
    const body = new URLSearchParams((await readBody(req)).toString());
    try {
      if (body.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") throw new Error("grant_type");
      const assertion = body.get("assertion") ?? "";
      if (decodeProtectedHeader(assertion).kid !== keyId) throw new Error("kid");
      const { payload } = await jwtVerify(assertion, verifyKey, { issuer: account.client_email, audience: account.token_uri });
      if (payload.scope !== "https://www.googleapis.com/auth/firebase.messaging") throw new Error("scope");
      const token = `ya29.${randomBytes(16).toString("hex")}`;
      valid.add(token);
      issued++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: token, expires_in: 3599, token_type: "Bearer" }));
    } catch (err) {
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_grant", error_description: String(err) }));
    }
  });
  const tokenPort = await listen(tokenServer);
  const account: LocalServiceAccount = {
    client_email: `push@${projectId}.iam.gserviceaccount.com`,
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    private_key_id: keyId,
    project_id: projectId,
    token_uri: `${options.tls ? "https" : "http"}://127.0.0.1:${tokenPort}/token`,
  };

  const path = `/v1/projects/${projectId}/messages:send`;
  const server = options.tls ? http2.createSecureServer(options.tls) : http2.createServer();
  server.on("stream", async (stream, headers) => {
    // A request its client cancelled (a deadline under load) is dropped, not an error.
    const body = await readBody(stream).catch(() => undefined);
    if (!body) return;
    if (headers[":path"] !== path || headers[":method"] !== "POST") return respond2(stream, fcmError(404, "NOT_FOUND"));
    const bearer = String(headers.authorization ?? "").replace(/^Bearer /, "");
    let answer: ScriptedAnswer;
    let token = "";
    if (!valid.has(bearer)) answer = fcmError(401, "UNAUTHENTICATED");
    else {
      const parsed = JSON.parse(body.toString()) as { message: FcmReceived["message"] };
      token = parsed.message.token;
      state.record({ token, message: parsed.message });
      answer = options.script?.(token, state.attempt(token)) ?? { status: 200, body: JSON.stringify({ name: `projects/${projectId}/messages/${randomBytes(6).toString("hex")}` }) };
    }
    state.answerLater(() => {
      state.count(answer.status);
      respond2(stream, answer);
    });
  });
  const port = await listen(server);
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    serviceAccount: account,
    state,
    get tokensIssued() {
      return issued;
    },
    revokeTokens() {
      valid = new Set();
    },
    async close() {
      state.release();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => tokenServer.close(() => r()));
    },
  };
}

// --- APNs ----------------------------------------------------------------------------------

export interface ApnsReceived {
  token: string;
  headers: IncomingHttpHeaders;
  payload: { aps: { alert?: { title?: string; body?: string } }; [key: string]: unknown };
}

export interface ApnsEndpoint {
  readonly url: string;
  /** The signing key the endpoint trusts (a .p8 key, PEM) and its ids. */
  readonly key: { privateKey: string; keyId: string; teamId: string };
  readonly topic: string;
  readonly state: EndpointState<ApnsReceived>;
  /** Provider tokens seen (distinct JWTs). */
  readonly providerTokens: Set<string>;
  /** The next requests with any current token get 403 ExpiredProviderToken. */
  expireProviderTokens(): void;
  close(): Promise<void>;
}

export function apnsError(status: number, reason: string): ScriptedAnswer {
  return { status, body: JSON.stringify({ reason }) };
}

export async function startApnsEndpoint(options: EndpointOptions & { topic?: string } = {}): Promise<ApnsEndpoint> {
  const topic = options.topic ?? "chat.chorus.app";
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const key = { privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), keyId: "ABC123DEFG", teamId: "DEF123GHIJ" };
  const jwks = createLocalJWKSet({ keys: [{ ...(publicKey.export({ format: "jwk" }) as JWK), kid: key.keyId, alg: "ES256" }] });
  const state = new EndpointState<ApnsReceived>(options);
  const providerTokens = new Set<string>();
  const expired = new Set<string>();
  const server = options.tls ? http2.createSecureServer(options.tls) : http2.createServer();
  server.on("stream", async (stream, headers) => {
    // A request its client cancelled (a deadline under load) is dropped, not an error.
    const body = await readBody(stream).catch(() => undefined);
    if (!body) return;
    const path = String(headers[":path"] ?? "");
    const match = /^\/3\/device\/([0-9a-fA-F]+)$/.exec(path);
    let answer: ScriptedAnswer;
    const jwt = String(headers.authorization ?? "").replace(/^bearer /, "");
    let token = "";
    try {
      await jwtVerify(jwt, jwks, { issuer: key.teamId, algorithms: ["ES256"] });
      if (expired.has(jwt)) throw Object.assign(new Error("expired"), { reason: "ExpiredProviderToken" });
      providerTokens.add(jwt);
      if (!match) answer = apnsError(400, "BadPath");
      else if (headers["apns-topic"] !== topic) answer = apnsError(400, "DeviceTokenNotForTopic");
      else {
        token = match[1];
        state.record({ token, headers, payload: JSON.parse(body.toString()) as ApnsReceived["payload"] });
        answer = options.script?.(token, state.attempt(token)) ?? { status: 200, headers: { "apns-id": randomBytes(16).toString("hex") } };
      }
    } catch (err) {
      answer = apnsError(403, (err as { reason?: string }).reason ?? "InvalidProviderToken");
    }
    state.answerLater(() => {
      state.count(answer.status);
      respond2(stream, answer);
    });
  });
  const port = await listen(server);
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    key,
    topic,
    state,
    providerTokens,
    expireProviderTokens() {
      for (const t of providerTokens) expired.add(t);
    },
    async close() {
      state.release();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// --- Web Push (RFC 8030 / 8291 / 8292) -------------------------------------------------------

export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface WebPushReceived {
  subscription: string;
  /** The decrypted payload. */
  plaintext: string;
  headers: IncomingHttpHeaders;
  /** The VAPID claims the push service verified. */
  vapid: { sub: string; aud: string; exp: number; publicKey: string };
}

export interface WebPushEndpoint {
  readonly url: string;
  readonly state: EndpointState<WebPushReceived>;
  /** A new subscription (a user agent's key pair and auth secret) at this push service. */
  subscribe(): WebPushSubscription;
  /** Ends a subscription: pushes to it get 410 Gone from now on. */
  unsubscribe(endpoint: string): void;
  /** Resolves with the next `count` decrypted pushes for a subscription. */
  waitFor(endpoint: string, count?: number): Promise<WebPushReceived[]>;
  close(): Promise<void>;
}

export async function startWebPushEndpoint(options: EndpointOptions & { vapidPublicKey?: string; verify?: boolean } = {}): Promise<WebPushEndpoint> {
  const subscriptions = new Map<string, { ecdh: ReturnType<typeof createECDH>; auth: string } | null>();
  const state = new EndpointState<WebPushReceived>(options);
  const waiters: { id: string; count: number; resolve: (r: WebPushReceived[]) => void }[] = [];
  let origin = "";

  const answer = (res: ServerResponse, a: ScriptedAnswer) => {
    state.answerLater(() => {
      state.count(a.status);
      res.writeHead(a.status, { "content-type": "text/plain", ...(a.headers ?? {}) }).end(a.body ?? "");
    });
  };

  const server = (options.tls ? https.createServer(options.tls) : http.createServer()).on("request", async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const id = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? "")?.[1] ?? "";
    const subscription = subscriptions.get(id);
    if (req.method !== "POST" || subscription === undefined) return answer(res, { status: 404 });
    if (subscription === null) return answer(res, { status: 410 });
    // Benchmarks: the push side's work is measured, not this service's checks.
    if (options.verify === false) return answer(res, options.script?.(id, state.attempt(id)) ?? { status: 201 });
    try {
      if (req.headers["content-encoding"] !== "aes128gcm") throw new Error("content-encoding must be aes128gcm");
      if (!/^\d+$/.test(String(req.headers.ttl ?? ""))) throw new Error("TTL header missing");
      const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(req.headers.authorization ?? ""));
      if (!auth) throw new Error("Authorization must be vapid t=..., k=...");
      const publicKey = auth[2];
      if (options.vapidPublicKey && publicKey !== options.vapidPublicKey) throw new Error("unexpected VAPID key");
      const raw = Buffer.from(publicKey, "base64url");
      const jwk: JWK = { kty: "EC", crv: "P-256", x: raw.subarray(1, 33).toString("base64url"), y: raw.subarray(33, 65).toString("base64url") };
      const { payload } = await jwtVerify(auth[1], createLocalJWKSet({ keys: [jwk] }), { audience: origin, algorithms: ["ES256"] });
      if (typeof payload.sub !== "string" || !/^(mailto:|https:)/.test(payload.sub)) throw new Error("VAPID sub must be mailto: or https:");
      if (!payload.exp || payload.exp > Date.now() / 1000 + 24 * 3600) throw new Error("VAPID exp must be within 24 h");
      const plaintext = (ece.decrypt(body, { version: "aes128gcm", privateKey: subscription.ecdh, authSecret: subscription.auth }) as Buffer).toString("utf8");
      const item: WebPushReceived = { subscription: id, plaintext, headers: req.headers, vapid: { sub: payload.sub, aud: String(payload.aud), exp: payload.exp, publicKey } };
      state.record(item);
      const scripted = options.script?.(id, state.attempt(id));
      if (!scripted || scripted.status < 300) {
        for (const w of [...waiters]) {
          if (w.id !== id) continue;
          const got = state.received.filter((r) => r.subscription === id);
          if (got.length >= w.count) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(got.slice(0, w.count));
          }
        }
      }
      answer(res, scripted ?? { status: 201, headers: { location: `${origin}/message/${randomBytes(6).toString("hex")}` } });
    } catch (err) {
      answer(res, { status: 400, body: String(err instanceof Error ? err.message : err) });
    }
  });
  const port = await listen(server);
  origin = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
  const idOf = (endpoint: string) => endpoint.slice(endpoint.lastIndexOf("/") + 1);
  return {
    url: origin,
    state,
    subscribe() {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const auth = randomBytes(16).toString("base64url");
      const id = randomBytes(12).toString("base64url");
      subscriptions.set(id, { ecdh, auth });
      return { endpoint: `${origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth } };
    },
    unsubscribe(endpoint) {
      subscriptions.set(idOf(endpoint), null);
    },
    waitFor(endpoint, count = 1) {
      const id = idOf(endpoint);
      const got = state.received.filter((r) => r.subscription === id);
      if (got.length >= count) return Promise.resolve(got.slice(0, count));
      return new Promise((resolve) => waiters.push({ id, count, resolve }));
    },
    async close() {
      state.release();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export type { EndpointState };
