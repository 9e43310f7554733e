import { z } from "zod";

/** Thrown when environment variables fail validation; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      "invalid configuration:\n" +
        problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/**
 * Validates environment variables against a zod object schema whose keys are the variable
 * names. Empty strings count as unset so that `FOO= cmd` falls back to the default.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Env = process.env): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? "(environment)"),
        message: issue.message,
      })),
    );
  }
  return result.data;
}

/** Reusable field types for environment schemas. */
export const env = {
  port: (fallback: number) =>
    z.coerce
      .number({ error: "must be a TCP port number" })
      .int("must be an integer")
      .min(0, "must be between 0 and 65535")
      .max(65535, "must be between 0 and 65535")
      .default(fallback),
  positiveInt: (fallback: number) =>
    z.coerce.number({ error: "must be a number" }).int("must be an integer").positive("must be positive").default(fallback),
  host: (fallback: string) => z.string().min(1).default(fallback),
  urlList: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((value, ctx) => {
        const urls = value.split(",").map((s) => s.trim()).filter(Boolean);
        for (const u of urls) {
          try {
            new URL(u);
          } catch {
            ctx.addIssue({ code: "custom", message: `"${u}" is not a URL (expected e.g. http://127.0.0.1:2379)` });
          }
        }
        if (urls.length === 0) ctx.addIssue({ code: "custom", message: "must list at least one URL" });
        return urls;
      }),
  logLevel: () => z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

/** Settings shared by every service process. */
export const meshEnvSchema = z.object({
  /** Interface the gRPC/Connect server binds to. */
  CHORUS_GRPC_HOST: env.host("127.0.0.1"),
  /** gRPC/Connect port; 0 picks a free one (cluster mode). */
  CHORUS_GRPC_PORT: env.port(0),
  /** host:port other services use to reach this instance; defaults to the bound address. */
  CHORUS_ADVERTISE_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, "must be host:port").optional(),
  CHORUS_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 of [A-Za-z0-9._-]").optional(),
  CHORUS_ETCD_ENDPOINTS: env.urlList("http://127.0.0.1:2379"),
  /** Registry namespace, for several deployments (or test runs) on one etcd. */
  CHORUS_REGISTRY_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be 1-63 of [a-z0-9-]")
    .refine((v) => v !== "services", "must not be \"services\"")
    .optional(),
  /** Registry lease TTL: a crashed instance disappears at most this long after it died. */
  CHORUS_LEASE_TTL_SECONDS: env.positiveInt(10),
  /** Deadline applied to every mesh call that does not set its own. */
  CHORUS_RPC_TIMEOUT_MS: env.positiveInt(5000),
  /** Calls one instance handles at once; more are refused with RESOURCE_EXHAUSTED. */
  CHORUS_MAX_INFLIGHT_RPCS: env.positiveInt(512),
  /** Snowflake worker id (0-31) of this process. */
  CHORUS_WORKER_ID: z.coerce.number().int().min(0).max(31, "must be 0-31").default(0),
  LOG_LEVEL: env.logLevel(),
});
export type MeshEnv = z.infer<typeof meshEnvSchema>;
