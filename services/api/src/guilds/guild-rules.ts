import { z } from "zod";
import { InvalidSnowflakeError, parseSnowflake } from "@chorus/snowflake";

/**
 * The Discord JSON bodies of the guild, channel, role, member, ban, invite and DM routes, as
 * zod schemas whose issues carry Discord's form error codes (validate() in account-rules
 * turns them into 50035 Invalid Form Body naming each field). They check types and Discord's
 * documented bounds, so that a bad field is named before anything reaches the guild service;
 * the guild service checks the rest (permissions, hierarchy, references to other entities).
 * Unknown fields are ignored, as Discord ignores them. Snowflakes arrive as strings (or
 * numbers), permissions as decimal strings (or numbers), and come out as bigint.
 */

/** The largest permission bitfield: 64 bits. */
const MAX_PERMISSIONS = (1n << 64n) - 1n;
/** Snowflakes are below 2^63 in Chorus (what the databases store); 0 names nothing. */
const MAX_SNOWFLAKE = (1n << 63n) - 1n;

type Ctx = z.RefinementCtx;

export function issue(ctx: Ctx, code: string, message: string): never {
  ctx.addIssue({ code: "custom", message, params: { discord: code } });
  return z.NEVER as never;
}

const required = (ctx: Ctx) => issue(ctx, "BASE_TYPE_REQUIRED", "This field is required");
const shown = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/** A field whose value `parse` turns into T, reporting Discord's form errors. Missing: BASE_TYPE_REQUIRED. */
export function field<T>(parse: (value: unknown, ctx: Ctx) => T) {
  return z.unknown().transform((value, ctx): T => (value === undefined ? required(ctx) : parse(value, ctx)));
}

/** Characters as people count them (code points), not UTF-16 units. */
const lengthOf = (value: string) => [...value].length;

/** A string of min to max characters. */
export function text(min: number, max: number) {
  return field((value, ctx): string => {
    if (typeof value !== "string") return issue(ctx, "BASE_TYPE_STRING", "Must be a string.");
    const length = lengthOf(value);
    if (length < min || length > max) {
      return min === 0
        ? issue(ctx, "BASE_TYPE_MAX_LENGTH", `Must be ${max} or fewer in length.`)
        : issue(ctx, "BASE_TYPE_BAD_LENGTH", `Must be between ${min} and ${max} in length.`);
    }
    return value;
  });
}

/** An integer from min to max; Discord also takes one written as a string of digits. */
export function int(min: number, max: number) {
  return field((value, ctx): number => {
    const number = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof number !== "number" || !Number.isSafeInteger(number)) return issue(ctx, "NUMBER_TYPE_COERCE", `Value "${shown(value)}" is not int.`);
    if (number < min) return issue(ctx, "NUMBER_TYPE_MIN", `int value should be greater than or equal to ${min}.`);
    if (number > max) return issue(ctx, "NUMBER_TYPE_MAX", `int value should be less than or equal to ${max}.`);
    return number;
  });
}

/** One of a few integers (a channel type, a level...). */
export function choice<const T extends number>(values: readonly T[]) {
  return field((value, ctx): T => {
    const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof number === "number" && (values as readonly number[]).includes(number)) return number as T;
    return issue(ctx, "BASE_TYPE_CHOICES", `Value must be one of {${values.join(", ")}}.`);
  });
}

export function bool() {
  return field((value, ctx): boolean => {
    if (typeof value === "boolean") return value;
    return issue(ctx, "BOOLEAN_TYPE_COERCE", `Value "${shown(value)}" is not bool.`);
  });
}

/** Parses a snowflake as Discord writes it (a decimal string, or a number): undefined if it is none. */
export function parseSnowflakeValue(value: unknown): bigint | undefined {
  const digits = typeof value === "string" ? value : typeof value === "number" && Number.isSafeInteger(value) ? String(value) : undefined;
  if (digits === undefined) return undefined;
  try {
    const id = parseSnowflake(digits);
    return id > 0n && id <= MAX_SNOWFLAKE ? id : undefined;
  } catch (err) {
    if (err instanceof InvalidSnowflakeError) return undefined;
    throw err;
  }
}

export function snowflake() {
  return field((value, ctx): bigint => parseSnowflakeValue(value) ?? issue(ctx, "NUMBER_TYPE_COERCE", `Value "${shown(value)}" is not snowflake.`));
}

/** A permission bitfield: a decimal string, as Discord sends them (or a number). */
export function permissions() {
  return field((value, ctx): bigint => {
    const digits = typeof value === "string" ? value : typeof value === "number" && Number.isSafeInteger(value) ? String(value) : undefined;
    if (digits === undefined || !/^\d{1,20}$/.test(digits) || BigInt(digits) > MAX_PERMISSIONS) {
      return issue(ctx, "NUMBER_TYPE_COERCE", `Value "${shown(value)}" is not int.`);
    }
    return BigInt(digits);
  });
}

/** A list of items, at most `max` of them. */
export function list<T extends z.ZodType>(item: T, max: number) {
  return z
    .unknown()
    .transform((value, ctx) => {
      if (value === undefined) return required(ctx);
      if (!Array.isArray(value)) return issue(ctx, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
      if (value.length > max) return issue(ctx, "BASE_TYPE_MAX_LENGTH", `Must be ${max} or fewer in length.`);
      return value as unknown[];
    })
    .pipe(z.array(item));
}

/** An image as a data URI (icons); its hash is taken where it is used. */
const image = () => text(1, 16 * 1024 * 1024);

/** Discord's channel types that guild routes create: text, voice, category. */
export const GUILD_CHANNEL_TYPES = [0, 2, 4] as const;
const AFK_TIMEOUTS = [60, 300, 900, 1800, 3600] as const;

/** Discord's channel limits. */
export const CHANNEL_LIMITS = {
  name: { min: 1, max: 100 },
  topic: 1024,
  rateLimitPerUser: 21600,
  bitrate: { min: 8000, max: 96000 },
  userLimit: 99,
  overwrites: 100,
} as const;

export const overwriteSchema = z.object({
  id: snowflake(),
  type: choice([0, 1]),
  allow: permissions().nullish(),
  deny: permissions().nullish(),
});
export type OverwriteBody = z.infer<typeof overwriteSchema>;

/** POST /guilds. Discord's clients also send channels, roles, region, guild_template_code...: ignored. */
export const createGuildSchema = z.object({
  name: text(2, 100),
  icon: image().nullish(),
  description: text(0, 120).nullish(),
});

/** PATCH /guilds/:id. null clears what can be cleared. */
export const modifyGuildSchema = z.object({
  name: text(2, 100).optional(),
  icon: image().nullish(),
  description: text(0, 120).nullish(),
  system_channel_id: snowflake().nullish(),
  afk_channel_id: snowflake().nullish(),
  afk_timeout: choice(AFK_TIMEOUTS).nullish(),
  verification_level: choice([0, 1, 2, 3, 4]).nullish(),
  default_message_notifications: choice([0, 1]).nullish(),
  explicit_content_filter: choice([0, 1, 2]).nullish(),
  preferred_locale: text(2, 10).nullish(),
  owner_id: snowflake().optional(),
});
export type ModifyGuildBody = z.infer<typeof modifyGuildSchema>;

const channelFields = {
  topic: text(0, CHANNEL_LIMITS.topic).nullish(),
  position: int(-(2 ** 31), 2 ** 31 - 1).nullish(),
  parent_id: snowflake().nullish(),
  nsfw: bool().nullish(),
  rate_limit_per_user: int(0, CHANNEL_LIMITS.rateLimitPerUser).nullish(),
  bitrate: int(CHANNEL_LIMITS.bitrate.min, CHANNEL_LIMITS.bitrate.max).nullish(),
  user_limit: int(0, CHANNEL_LIMITS.userLimit).nullish(),
  permission_overwrites: list(overwriteSchema, CHANNEL_LIMITS.overwrites).nullish(),
};

/** POST /guilds/:id/channels. */
export const createChannelSchema = z.object({
  name: text(CHANNEL_LIMITS.name.min, CHANNEL_LIMITS.name.max),
  type: choice(GUILD_CHANNEL_TYPES).nullish(),
  ...channelFields,
});
export type CreateChannelBody = z.infer<typeof createChannelSchema>;

/** PATCH /channels/:id: a guild channel's fields, or a group DM's name and icon. `type` is not changeable here. */
export const modifyChannelSchema = z.object({
  name: text(CHANNEL_LIMITS.name.min, CHANNEL_LIMITS.name.max).nullish(),
  icon: image().nullish(),
  ...channelFields,
});
export type ModifyChannelBody = z.infer<typeof modifyChannelSchema>;

/** PATCH /guilds/:id/channels. */
export const reorderChannelsSchema = list(
  z.object({
    id: snowflake(),
    position: int(-(2 ** 31), 2 ** 31 - 1).nullish(),
    parent_id: snowflake().nullish(),
    lock_permissions: bool().nullish(),
  }),
  500,
);

/** PUT /channels/:id/permissions/:overwrite_id. */
export const putOverwriteSchema = z.object({
  type: choice([0, 1]),
  allow: permissions().nullish(),
  deny: permissions().nullish(),
});

const roleFields = {
  name: text(1, 100).nullish(),
  permissions: permissions().nullish(),
  color: int(0, 0xffffff).nullish(),
  hoist: bool().nullish(),
  mentionable: bool().nullish(),
};

/** POST /guilds/:id/roles (every field optional: Discord names a bare role "new role"). */
export const createRoleSchema = z.object(roleFields);
/** PATCH /guilds/:id/roles/:role_id. */
export const modifyRoleSchema = z.object(roleFields);
export type RoleBody = z.infer<typeof createRoleSchema>;

/** PATCH /guilds/:id/roles. */
export const reorderRolesSchema = list(z.object({ id: snowflake(), position: int(0, 2 ** 31 - 1).nullish() }), 250);

/** PATCH /guilds/:id/members/:user_id. Timeouts, voice moves and member flags are not in Chorus yet: ignored. */
export const modifyMemberSchema = z.object({
  nick: text(0, 32).nullish(),
  roles: list(snowflake(), 250).nullish(),
  mute: bool().nullish(),
  deaf: bool().nullish(),
});
export type ModifyMemberBody = z.infer<typeof modifyMemberSchema>;

/** PATCH /guilds/:id/members/@me. */
export const modifyCurrentMemberSchema = z.object({ nick: text(0, 32).nullish() });

/** PUT /guilds/:id/bans/:user_id. The reason comes in X-Audit-Log-Reason (or, as Discord once took it, the body). */
export const createBanSchema = z.object({
  delete_message_seconds: int(0, 604800).nullish(),
  delete_message_days: int(0, 7).nullish(),
  reason: text(0, 512).nullish(),
});

/** POST /channels/:id/invites. */
export const createInviteSchema = z.object({
  max_age: int(0, 604800).nullish(),
  max_uses: int(0, 100).nullish(),
  temporary: bool().nullish(),
  unique: bool().nullish(),
});

/** Group DMs have up to 10 participants: the caller and 9 others. */
export const MAX_GROUP_DM_RECIPIENTS = 9;

/**
 * POST /users/@me/channels: `recipient_id` (bots and the documented API) or `recipients`
 * (Discord's client: one id for a DM, several for a group DM).
 */
export const createPrivateChannelSchema = z
  .object({
    recipient_id: snowflake().optional(),
    recipients: list(snowflake(), MAX_GROUP_DM_RECIPIENTS).optional(),
    name: text(0, 100).nullish(),
  })
  .transform((body, ctx) => {
    const recipients = body.recipient_id !== undefined ? [body.recipient_id] : body.recipients;
    if (!recipients || recipients.length === 0) {
      ctx.addIssue({ code: "custom", path: ["recipient_id"], message: "This field is required", params: { discord: "BASE_TYPE_REQUIRED" } });
      return z.NEVER;
    }
    return { recipients: [...new Set(recipients)], name: body.name ?? undefined };
  });

/** GET /guilds/:id/members query. */
export const listMembersQuerySchema = z.object({
  limit: int(1, 1000).optional(),
  // Discord's clients page from "0".
  after: field((value, ctx): bigint =>
    value === "0" ? 0n : parseSnowflakeValue(value) ?? issue(ctx, "NUMBER_TYPE_COERCE", `Value "${shown(value)}" is not snowflake.`),
  ).optional(),
});

/** Query booleans as Discord reads them ("true", "1"; anything else is false). */
export const queryFlag = (value: unknown) => value === "true" || value === "1" || value === "True";
