import { z } from "zod";

/** Discord v10 gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes). */
export const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

/** Discord v10 gateway close codes. */
export const CloseCode = {
  UnknownError: 4000,
  UnknownOpcode: 4001,
  DecodeError: 4002,
  NotAuthenticated: 4003,
  AuthenticationFailed: 4004,
  AlreadyAuthenticated: 4005,
  InvalidSeq: 4007,
  RateLimited: 4008,
  SessionTimedOut: 4009,
  InvalidShard: 4010,
  ShardingRequired: 4011,
  InvalidApiVersion: 4012,
  InvalidIntents: 4013,
  DisallowedIntents: 4014,
} as const;

export interface GatewayPayload {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

/** Largest client payload Discord accepts. */
export const MAX_PAYLOAD_BYTES = 4096;

/** Parses one client frame; returns undefined when it is not a gateway payload. */
export function parsePayload(data: string): GatewayPayload | undefined {
  try {
    const value = JSON.parse(data) as unknown;
    if (typeof value !== "object" || value === null || typeof (value as GatewayPayload).op !== "number") return undefined;
    return value as GatewayPayload;
  } catch {
    return undefined;
  }
}

/** Discord's default and bounds of IDENTIFY's large_threshold. */
export const LARGE_THRESHOLD = { default: 50, min: 50, max: 250 } as const;

const intentsField = z.number().int().min(0).max(2 ** 31 - 1);

const identifySchema = z.object({
  token: z.string().min(1).max(512),
  intents: intentsField,
  properties: z.record(z.string(), z.unknown()),
  compress: z.boolean().optional(),
  large_threshold: z.number().int().optional(),
  shard: z.tuple([z.number().int(), z.number().int()]).optional(),
  presence: z.unknown().optional(),
});
export type IdentifyData = z.infer<typeof identifySchema>;

const resumeSchema = z.object({
  token: z.string().min(1).max(512),
  session_id: z.string().min(1).max(128),
  seq: z.number().int().min(0).nullable(),
});
export type ResumeData = z.infer<typeof resumeSchema>;

/** IDENTIFY's `d`, or undefined when it is malformed (the caller closes with 4002). */
export function parseIdentify(d: unknown): IdentifyData | undefined {
  const result = identifySchema.safeParse(d);
  return result.success ? result.data : undefined;
}

/** RESUME's `d`, or undefined when it is malformed. */
export function parseResume(d: unknown): ResumeData | undefined {
  const result = resumeSchema.safeParse(d);
  return result.success ? result.data : undefined;
}

/** True when a shard pair is usable: 0 <= id < count. */
export const validShard = ([id, count]: [number, number]) => count >= 1 && id >= 0 && id < count;

/** Discord's shard formula: which shard a guild's events go to. */
export const shardOf = (guildId: bigint, shardCount: number) => Number((guildId >> 22n) % BigInt(shardCount));

/** A token as IDENTIFY/RESUME may carry it: bare, or with the `Bot ` prefix of the REST API. */
export const bareToken = (token: string) => token.replace(/^Bot\s+/i, "").trim();
