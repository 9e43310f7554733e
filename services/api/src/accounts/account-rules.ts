import { z } from "zod";
import { InvalidFieldsError, type FieldError } from "./account-errors.js";

/**
 * The rules of account fields, as Discord's: zod schemas whose issues carry Discord's form
 * error codes, shared by the Discord edge and the Connect API so both refuse the same input
 * with the same words.
 */

export const USERNAME_LENGTH = { min: 2, max: 32 } as const;
export const GLOBAL_NAME_LENGTH = { min: 1, max: 32 } as const;
/** 72 as Discord (a bcrypt heritage); it also bounds the work one login asks of the KDF. */
export const PASSWORD_LENGTH = { min: 8, max: 72 } as const;
/** RFC 5321's limit on a forward path. */
export const EMAIL_MAX_LENGTH = 254;

/** Discord's new usernames: lowercase letters, digits, "_" and ".", never two "." in a row. */
const USERNAME_CHARACTERS = /^[a-z0-9_.]+$/;

/** A zod issue that carries a Discord form error code. */
export function discordIssue(code: string, message: string) {
  return { code: "custom" as const, message, params: { discord: code } };
}

export function lengthBetween(value: string, bounds: { min: number; max: number }) {
  // Characters as people count them (code points), not UTF-16 units.
  const length = [...value].length;
  return length >= bounds.min && length <= bounds.max;
}

export const badLength = (bounds: { min: number; max: number }) =>
  discordIssue("BASE_TYPE_BAD_LENGTH", `Must be between ${bounds.min} and ${bounds.max} in length.`);

export const usernameSchema = z.string().superRefine((value, ctx) => {
  if (!lengthBetween(value, USERNAME_LENGTH)) ctx.addIssue(badLength(USERNAME_LENGTH));
  else if (!USERNAME_CHARACTERS.test(value) || value.includes("..")) {
    ctx.addIssue(
      discordIssue(
        "USERNAME_INVALID_CHARACTERS",
        "Username can only use lowercase letters, numbers, underscores (_) and periods (.), with no two periods in a row.",
      ),
    );
  }
});

export const globalNameSchema = z.string().superRefine((value, ctx) => {
  if (!lengthBetween(value, GLOBAL_NAME_LENGTH)) ctx.addIssue(badLength(GLOBAL_NAME_LENGTH));
});

export const emailSchema = z.string().superRefine((value, ctx) => {
  if (value.length > EMAIL_MAX_LENGTH || !z.regexes.email.test(value)) {
    ctx.addIssue(discordIssue("EMAIL_TYPE_INVALID_EMAIL", "Not a well formed email address."));
  }
});

export const passwordSchema = z.string().superRefine((value, ctx) => {
  if (!lengthBetween(value, PASSWORD_LENGTH)) ctx.addIssue(badLength(PASSWORD_LENGTH));
});

/**
 * POST /auth/register. Discord's clients also send consent, date_of_birth, invite,
 * fingerprint, gift_code_sku_id and promotional_email_opt_in: accepted and ignored.
 */
export const registrationSchema = z.object({
  username: usernameSchema,
  email: emailSchema,
  password: passwordSchema,
  global_name: globalNameSchema.nullish(),
});
export type Registration = z.infer<typeof registrationSchema>;

/** POST /auth/login: `login` is an email address or a username. */
export const loginSchema = z.object({
  login: z.string().superRefine((value, ctx) => {
    if (value.length === 0) ctx.addIssue(discordIssue("BASE_TYPE_REQUIRED", "This field is required"));
  }),
  password: z.string().superRefine((value, ctx) => {
    if (value.length === 0) ctx.addIssue(discordIssue("BASE_TYPE_REQUIRED", "This field is required"));
  }),
});
export type Login = z.infer<typeof loginSchema>;

/**
 * PATCH /users/@me. null clears global_name or avatar; avatar is an image as a data URI.
 * `password` (the current one) is required to change username or email.
 */
export const profileChangesSchema = z.object({
  username: usernameSchema.optional(),
  global_name: globalNameSchema.nullish(),
  avatar: z.string().nullish(),
  email: emailSchema.optional(),
  password: z.string().optional(),
});
export type ProfileChanges = z.infer<typeof profileChangesSchema>;

const TYPE_NAMES: Record<string, string> = { string: "STRING", object: "DICT", boolean: "BOOLEAN", number: "NUMBER" };

/** Discord's form error for one zod issue. */
function fieldErrorOf(issue: z.core.$ZodIssue): FieldError {
  const path = issue.path.map(String);
  if (issue.code === "custom" && typeof issue.params?.discord === "string") {
    return { path, code: issue.params.discord, message: issue.message };
  }
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return { path, code: "BASE_TYPE_REQUIRED", message: "This field is required" };
    if (issue.expected === "object" && path.length === 0) {
      return { path, code: "DICT_TYPE_CONVERT", message: "Only dictionaries may be used in a DictType" };
    }
    const type = TYPE_NAMES[issue.expected] ?? issue.expected.toUpperCase();
    return { path, code: `BASE_TYPE_${type}`, message: `Must be a ${issue.expected}.` };
  }
  return { path, code: "BASE_TYPE_INVALID", message: issue.message };
}

/** Parses `input` with `schema`, or throws InvalidFieldsError naming every bad field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new InvalidFieldsError(result.error.issues.map(fieldErrorOf));
}
