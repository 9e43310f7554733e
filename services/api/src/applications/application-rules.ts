import { randomInt } from "node:crypto";
import { z } from "zod";
import { ApplicationFlags } from "discord-api-types/v10";
import { InvalidFieldsError, fieldError } from "../accounts/account-errors.js";
import { USERNAME_LENGTH, badLength, discordIssue, lengthBetween } from "../accounts/account-rules.js";

/**
 * The rules of applications and bots, shared by the Discord edge and the Connect API: field
 * validation with Discord's form error codes, bot usernames, permission bitfields and verify
 * keys.
 */

/**
 * The application flags a developer may set, as on Discord: the limited gateway intents
 * (GATEWAY_PRESENCE_LIMITED, GATEWAY_GUILD_MEMBERS_LIMITED, GATEWAY_MESSAGE_CONTENT_LIMITED),
 * which let the application's bot ask for the privileged intents.
 */
export const SETTABLE_APPLICATION_FLAGS =
  BigInt(ApplicationFlags.GatewayPresenceLimited) | BigInt(ApplicationFlags.GatewayGuildMembersLimited) | BigInt(ApplicationFlags.GatewayMessageContentLimited);

/** What the storage contract allows (chorus.storage.v1.Application). */
export const APPLICATION_NAME_LENGTH = { min: 1, max: 128 } as const;
export const APPLICATION_DESCRIPTION_MAX = 400;

const applicationNameSchema = z.string().superRefine((value, ctx) => {
  if (!lengthBetween(value.trim(), APPLICATION_NAME_LENGTH)) ctx.addIssue(badLength(APPLICATION_NAME_LENGTH));
});

const descriptionSchema = z.string().superRefine((value, ctx) => {
  if ([...value].length > APPLICATION_DESCRIPTION_MAX) {
    ctx.addIssue(discordIssue("BASE_TYPE_MAX_LENGTH", `Must be ${APPLICATION_DESCRIPTION_MAX} or fewer in length.`));
  }
});

/** POST /applications. Discord's client also sends team_id: accepted and ignored (no teams yet). */
export const applicationCreationSchema = z.object({
  name: applicationNameSchema.transform((name) => name.trim()),
  description: descriptionSchema.nullish().transform((d) => d ?? ""),
});
export type ApplicationCreation = z.infer<typeof applicationCreationSchema>;

/** PATCH /applications/:id. null clears description and icon; icon is an image as a data URI. */
export const applicationChangesSchema = z.object({
  name: applicationNameSchema.transform((name) => name.trim()).optional(),
  description: descriptionSchema.nullish(),
  icon: z.string().nullish(),
  bot_public: z.boolean().optional(),
  bot_require_code_grant: z.boolean().optional(),
  // Verified (a signed PING answered with PONG) before it is saved; null or "" removes it.
  interactions_endpoint_url: z.string().max(512).nullish(),
  flags: z
    .number()
    .int()
    .nonnegative()
    .superRefine((value, ctx) => {
      if ((BigInt(value) & ~SETTABLE_APPLICATION_FLAGS) !== 0n) {
        ctx.addIssue(discordIssue("APPLICATION_FLAGS_INVALID", "Only the limited gateway intent flags can be set."));
      }
    })
    .optional(),
});
export type ApplicationChanges = z.infer<typeof applicationChangesSchema>;

const MAX_PERMISSIONS = (1n << 64n) - 1n;

/**
 * Discord's permission bitfield as clients send it: a decimal string ("8"), or a plain
 * number from older clients. InvalidFieldsError naming `field` for anything else.
 */
export function parsePermissions(value: unknown, field: string): bigint {
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text === "string" && /^\d{1,20}$/.test(text)) {
    const bits = BigInt(text);
    if (bits <= MAX_PERMISSIONS) return bits;
  }
  throw new InvalidFieldsError([fieldError(field, "NUMBER_TYPE_COERCE", `Value "${String(value)}" is not int.`)]);
}

/** Room left in a username for "_" and a four-digit suffix that tells apart bots of the same name. */
const SUFFIX_LENGTH = 5;

/**
 * The username a bot gets from its application's name, under Discord's new username rules
 * (lowercase letters, digits, "_" and ".", no ".."): "My Cool Bot!" → "my_cool_bot". Accents
 * are dropped, anything else becomes "_"; a name with nothing usable left gives "bot".
 */
export function botUsernameBase(applicationName: string): string {
  const base = applicationName
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9_.]+/g, "_")
    .replace(/\.{2,}/g, ".")
    .replace(/_{2,}/g, "_")
    .replace(/^[_.]+|[_.]+$/g, "")
    .slice(0, USERNAME_LENGTH.max)
    .replace(/[_.]+$/, "");
  return base.length >= USERNAME_LENGTH.min ? base : "bot";
}

/**
 * The username to try for a bot on its `attempt`-th try (0 first): the base itself, then the
 * base with a random four-digit suffix, since usernames are unique across people and bots.
 */
export function botUsernameCandidate(base: string, attempt: number, random: () => number = () => randomInt(10_000)): string {
  if (attempt === 0) return base;
  const stem = base.slice(0, USERNAME_LENGTH.max - SUFFIX_LENGTH).replace(/\.+$/, "");
  return `${stem}_${String(random()).padStart(4, "0")}`;
}
