import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { rootCertificates } from "node:tls";
import { z } from "zod";
import webpush from "web-push";
import { env, loadConfig, meshEnvSchema, type Logger, type RunMode } from "@chorus/mesh";
import { APNS_ENDPOINT } from "./apns-provider.js";
import { FCM_ENDPOINT } from "./fcm-provider.js";
import type { Http2OriginOptions } from "./http2-origin.js";
import { nativeHttp2 } from "./native-http2-origin.js";
import type { GoogleServiceAccount } from "./provider-credentials.js";
import { ProviderFactory, type ProviderSpec } from "./provider-spec.js";
import type { ProviderName, PushProvider } from "./push-request.js";
import { SinkThreads } from "./sink-threads.js";
import type { VapidDetails } from "./web-push-provider.js";

const flag = z.enum(["0", "1", "true", "false"]).default("0").transform((v) => v === "1" || v === "true");

export const pushEnvSchema = z.object({
  /** Requests the source buffer holds (all priorities and providers together). */
  CHORUS_PUSH_BUFFER_SIZE: env.positiveInt(10_000),
  /**
   * Sinks per configured provider, each with its own provider connection. At 100 in flight
   * each, 8 sinks carry 40,000 pushes/s at a 20 ms provider round trip, 20,000/s at 40 ms.
   */
  CHORUS_PUSH_SINKS: env.positiveInt(8),
  /** Worker threads the sinks' provider connections run in (round-robin); 0: the main thread. */
  CHORUS_PUSH_SINK_THREADS: z.coerce.number().int().min(0).max(64).default(0),
  /** Requests one sink holds at most (Firebase's XMPP limit was 100 pending). */
  CHORUS_PUSH_MAX_IN_FLIGHT: env.positiveInt(100),
  CHORUS_PUSH_MAX_ATTEMPTS: env.positiveInt(5),
  CHORUS_PUSH_RETRY_BASE_MS: env.positiveInt(250),
  /** Longest backoff; a Retry-After beyond it gives the push up. */
  CHORUS_PUSH_RETRY_MAX_MS: env.positiveInt(60_000),
  /** How long a provider may keep a push for an unreachable device. */
  CHORUS_PUSH_TTL_SECONDS: env.positiveInt(24 * 3600),
  CHORUS_PUSH_REQUEST_TIMEOUT_MS: env.positiveInt(10_000),
  /** Notify calls resolving devices and settings at once; more are refused (RESOURCE_EXHAUSTED). */
  CHORUS_PUSH_MAX_RESOLVING: env.positiveInt(256),
  CHORUS_VAPID_SUBJECT: z.string().regex(/^(mailto:|https:)/, "must be a mailto: or https: URL").optional(),
  CHORUS_VAPID_PUBLIC_KEY: z.string().optional(),
  CHORUS_VAPID_PRIVATE_KEY: z.string().optional(),
  /** Web Push to plain http:// endpoints (local test push services only). */
  CHORUS_WEB_PUSH_ALLOW_HTTP: flag,
  /** FCM: the service account key (a file, or its JSON). */
  CHORUS_FCM_SERVICE_ACCOUNT_FILE: z.string().optional(),
  CHORUS_FCM_SERVICE_ACCOUNT: z.string().optional(),
  CHORUS_FCM_PROJECT_ID: z.string().optional(),
  CHORUS_FCM_ENDPOINT: z.url().default(FCM_ENDPOINT),
  /** APNs: the .p8 signing key (a file, or its PEM), its key id, the team id and the app's bundle id. */
  CHORUS_APNS_KEY_FILE: z.string().optional(),
  CHORUS_APNS_KEY: z.string().optional(),
  CHORUS_APNS_KEY_ID: z.string().optional(),
  CHORUS_APNS_TEAM_ID: z.string().optional(),
  CHORUS_APNS_TOPIC: z.string().optional(),
  CHORUS_APNS_ENDPOINT: z.url().default(APNS_ENDPOINT),
  /** PEM certificates trusted for provider endpoints besides Node's roots (a private CA, a test endpoint's). */
  CHORUS_PUSH_CA_FILE: z.string().optional(),
  /** FCM's and APNs' HTTP/2 client: the native addon (h2 in Rust, built by scripts/setup.mjs) or node:http2. */
  CHORUS_PUSH_HTTP2_CLIENT: z.enum(["native", "node"]).default("native"),
  /** Threads the native HTTP/2 client runs its connections on (one process-wide runtime). */
  CHORUS_PUSH_HTTP2_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /** The gateways' Redis (their session directory, for Notify's check_sessions); unset in embedded mode. */
  CHORUS_REDIS_URL: z.url({ error: "must be a redis:// or rediss:// URL" }).optional(),
  CHORUS_REGISTRY_NAMESPACE: meshEnvSchema.shape.CHORUS_REGISTRY_NAMESPACE,
  CHORUS_DATA_DIR: z.string().default(".chorus/data"),
});
export type PushConfig = z.infer<typeof pushEnvSchema>;

export function loadPushConfig(environment: Record<string, string | undefined>): PushConfig {
  return loadConfig(pushEnvSchema, environment);
}

/**
 * The VAPID keys: from the environment, or in embedded mode kept in the data folder (made on
 * first start, so browsers' subscriptions survive restarts). None in cluster mode without
 * them: Web Push is off.
 */
function vapidDetails(config: PushConfig, mode: RunMode): VapidDetails | undefined {
  const subject = config.CHORUS_VAPID_SUBJECT ?? "mailto:push@chorus.invalid";
  if (config.CHORUS_VAPID_PUBLIC_KEY && config.CHORUS_VAPID_PRIVATE_KEY) {
    return { subject, publicKey: config.CHORUS_VAPID_PUBLIC_KEY, privateKey: config.CHORUS_VAPID_PRIVATE_KEY };
  }
  if (config.CHORUS_VAPID_PUBLIC_KEY || config.CHORUS_VAPID_PRIVATE_KEY) {
    throw new Error("CHORUS_VAPID_PUBLIC_KEY and CHORUS_VAPID_PRIVATE_KEY go together");
  }
  if (mode !== "embedded") return undefined;
  const file = join(config.CHORUS_DATA_DIR, "vapid-keys.json");
  if (existsSync(file)) return { subject, ...(JSON.parse(readFileSync(file, "utf8")) as { publicKey: string; privateKey: string }) };
  const keys = webpush.generateVAPIDKeys();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return { subject, ...keys };
}

export interface ConfiguredProviders {
  providers: Partial<Record<ProviderName, () => PushProvider>>;
  webPushPublicKey: string;
  /** Ends the sink threads, if any (after the pipeline stopped). */
  close(): Promise<void>;
}

/** The provider connections the environment configures (one per sink), in sink threads when asked. */
export function configureProviders(config: PushConfig, mode: RunMode, logger: Logger): ConfiguredProviders {
  const specs: Partial<Record<ProviderName, ProviderSpec>> = {};
  const timeoutMs = config.CHORUS_PUSH_REQUEST_TIMEOUT_MS;
  const vapid = vapidDetails(config, mode);
  // Node's roots plus the extra ones: giving `ca` replaces the default list.
  const ca = config.CHORUS_PUSH_CA_FILE ? [...rootCertificates, readFileSync(config.CHORUS_PUSH_CA_FILE, "utf8")] : undefined;
  const http2: Http2OriginOptions = { timeoutMs, ca, client: config.CHORUS_PUSH_HTTP2_CLIENT, nativeThreads: config.CHORUS_PUSH_HTTP2_THREADS };
  if (vapid) {
    specs.webpush = { kind: "webpush", options: { vapid, connections: config.CHORUS_PUSH_MAX_IN_FLIGHT, timeoutMs, allowHttp: config.CHORUS_WEB_PUSH_ALLOW_HTTP, ca } };
  }
  const accountJson = config.CHORUS_FCM_SERVICE_ACCOUNT ?? (config.CHORUS_FCM_SERVICE_ACCOUNT_FILE && readFileSync(config.CHORUS_FCM_SERVICE_ACCOUNT_FILE, "utf8"));
  if (accountJson) {
    const account = JSON.parse(accountJson) as GoogleServiceAccount;
    const projectId = config.CHORUS_FCM_PROJECT_ID ?? account.project_id;
    if (!projectId) throw new Error("CHORUS_FCM_PROJECT_ID: required when the service account names no project_id");
    specs.fcm = { kind: "fcm", projectId, endpoint: config.CHORUS_FCM_ENDPOINT, account, http2 };
  }
  const apnsKey = config.CHORUS_APNS_KEY ?? (config.CHORUS_APNS_KEY_FILE && readFileSync(config.CHORUS_APNS_KEY_FILE, "utf8"));
  if (apnsKey) {
    const missing = (["CHORUS_APNS_KEY_ID", "CHORUS_APNS_TEAM_ID", "CHORUS_APNS_TOPIC"] as const).filter((v) => !config[v]);
    if (missing.length > 0) throw new Error(`${missing.join(", ")}: required with an APNs key`);
    const key = { privateKey: apnsKey, keyId: config.CHORUS_APNS_KEY_ID!, teamId: config.CHORUS_APNS_TEAM_ID! };
    specs.apns = { kind: "apns", endpoint: config.CHORUS_APNS_ENDPOINT, topic: config.CHORUS_APNS_TOPIC!, key, http2 };
  }
  // A missing native client is a start-up error, not a failure of every push.
  if ((specs.fcm || specs.apns) && http2.client === "native") nativeHttp2();
  const threads = config.CHORUS_PUSH_SINK_THREADS > 0 && Object.keys(specs).length > 0 ? new SinkThreads(config.CHORUS_PUSH_SINK_THREADS, logger) : undefined;
  const factory = new ProviderFactory();
  const providers: Partial<Record<ProviderName, () => PushProvider>> = {};
  for (const [name, spec] of Object.entries(specs) as [ProviderName, ProviderSpec][]) {
    providers[name] = threads ? () => threads.provider(name, spec) : () => factory.open(spec);
  }
  logger.info({ providers: Object.keys(providers), sinkThreads: threads?.size ?? 0 }, "push providers configured");
  return { providers, webPushPublicKey: vapid?.publicKey ?? "", close: async () => threads?.close() };
}
