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
