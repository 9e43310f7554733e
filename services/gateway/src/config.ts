import { z } from "zod";
import { env, meshEnvSchema } from "@chorus/mesh";

/** The gateway's own environment variables (the mesh ones are read by the mesh). */
export const gatewayEnvSchema = z.object({
  CHORUS_GATEWAY_HOST: env.host("127.0.0.1"),
  /** WebSocket port (Discord v10 gateway protocol). */
  CHORUS_GATEWAY_PORT: env.port(8081),
  /** URL clients are told to connect (and resume) to; defaults to ws://host:port. */
  CHORUS_GATEWAY_PUBLIC_URL: z.url({ error: "must be a ws:// or wss:// URL" }).optional(),
  CHORUS_GATEWAY_HEARTBEAT_MS: env.positiveInt(41_250),
  /** How long a disconnected session can be resumed before it ends (and goes offline). */
  CHORUS_GATEWAY_RESUME_WINDOW_MS: env.positiveInt(60_000),
  /** Dispatches kept per session for RESUME. */
  CHORUS_GATEWAY_BUFFER_SIZE: env.positiveInt(1000),
  /** Client payloads one connection may send per 60 s (Discord: 120); more closes with 4008. */
  CHORUS_GATEWAY_RATE_LIMIT: env.positiveInt(120),
  /** IDENTIFYs a bot user may make per 24 h (Discord: 1000), across all gateway nodes; past it IDENTIFY closes with 4004. */
  CHORUS_GATEWAY_SESSION_START_LIMIT: env.positiveInt(1000),
  /** Redis holding sessions, replay buffers and the user → sessions directory; unset: an in-process stand-in (embedded mode only). */
  CHORUS_REDIS_URL: z.url({ error: "must be a redis:// or rediss:// URL" }).optional(),
  /** Also the Redis key prefix (chorus:<namespace>:gw:), so deployments and test runs can share a Redis. */
  CHORUS_REGISTRY_NAMESPACE: meshEnvSchema.shape.CHORUS_REGISTRY_NAMESPACE,
});

export type GatewayConfig = z.infer<typeof gatewayEnvSchema>;
