import { z } from "zod";
import { bool, parseSnowflakeValue, snowflake } from "../guilds/guild-rules.js";
import { boundedList, formIssue } from "./form-schemas.js";

/**
 * Mentions as Discord reads them from a message's content (`<@id>`, `<@!id>`, `<@&role>`,
 * `@everyone`, `@here`), and `allowed_mentions`, which says which of them count: a message's
 * `mentions`, `mention_roles` and `mention_everyone` are what remains, and only those notify.
 */

export const ALLOWED_MENTION_TYPES = ["roles", "users", "everyone"] as const;
export type AllowedMentionType = (typeof ALLOWED_MENTION_TYPES)[number];
/** Discord's limit on allowed_mentions.users and .roles. */
export const MAX_ALLOWED_MENTION_IDS = 100;

export interface ParsedMentions {
  users: bigint[];
  roles: bigint[];
  /** `@everyone` or `@here` appears. */
  everyone: boolean;
}

export interface AllowedMentions {
  parse: AllowedMentionType[];
  users: bigint[];
  roles: bigint[];
  repliedUser: boolean;
}

const MENTION = /<@(!|&)?(\d{1,20})>|@(everyone|here)\b/g;

/** The mentions written in `content`, each once, in order of appearance. */
export function parseMentions(content: string): ParsedMentions {
  const users = new Set<bigint>();
  const roles = new Set<bigint>();
  let everyone = false;
  for (const match of content.matchAll(MENTION)) {
    if (match[3]) {
      everyone = true;
      continue;
    }
    const id = parseSnowflakeValue(match[2]);
    if (id === undefined) continue;
    if (match[1] === "&") roles.add(id);
    else users.add(id);
  }
  return { users: [...users], roles: [...roles], everyone };
}

/**
 * The mentions that count under `allowed`: everything written when it is unset (Discord's
 * default); otherwise users and roles named in `parse`, or listed explicitly, and @everyone /
 * @here only with "everyone" in `parse`.
 */
export function applyAllowedMentions(parsed: ParsedMentions, allowed: AllowedMentions | undefined): ParsedMentions {
  if (!allowed) return parsed;
  const pick = (ids: bigint[], type: AllowedMentionType, listed: bigint[]) =>
    allowed.parse.includes(type) ? ids : ids.filter((id) => listed.includes(id));
  return {
    users: pick(parsed.users, "users", allowed.users),
    roles: pick(parsed.roles, "roles", allowed.roles),
    everyone: parsed.everyone && allowed.parse.includes("everyone"),
  };
}

const mentionType = z.unknown().transform((value, ctx): AllowedMentionType => {
  if (typeof value === "string" && (ALLOWED_MENTION_TYPES as readonly string[]).includes(value)) return value as AllowedMentionType;
  formIssue(ctx, [], "BASE_TYPE_CHOICES", `Value must be one of (${ALLOWED_MENTION_TYPES.map((t) => `'${t}'`).join(", ")}).`);
  return z.NEVER;
});

/** A list that is a set, as Discord's: a repeated value is SET_TYPE_ALREADY_CONTAINS_VALUE at its index. */
function set<T extends z.ZodType>(item: T, max: number) {
  return boundedList(item, { max }).superRefine((values, ctx) => {
    const seen = new Set<unknown>();
    values.forEach((value, index) => {
      if (seen.has(value)) formIssue(ctx, [index], "SET_TYPE_ALREADY_CONTAINS_VALUE", "The set already contains this value");
      seen.add(value);
    });
  });
}

/** The `allowed_mentions` field of a message. */
export const allowedMentionsSchema = z
  .object({
    parse: set(mentionType, ALLOWED_MENTION_TYPES.length).nullish(),
    users: set(snowflake(), MAX_ALLOWED_MENTION_IDS).nullish(),
    roles: set(snowflake(), MAX_ALLOWED_MENTION_IDS).nullish(),
    replied_user: bool().nullish(),
  })
  .superRefine((allowed, ctx) => {
    for (const type of ["users", "roles"] as const) {
      if (allowed.parse?.includes(type) && (allowed[type]?.length ?? 0) > 0) {
        formIssue(ctx, [], "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", `parse:["${type}"] and ${type}: [ids] are mutually exclusive.`);
      }
    }
  })
  .transform(
    (allowed): AllowedMentions => ({
      parse: allowed.parse ?? [],
      users: allowed.users ?? [],
      roles: allowed.roles ?? [],
      repliedUser: allowed.replied_user ?? false,
    }),
  );
