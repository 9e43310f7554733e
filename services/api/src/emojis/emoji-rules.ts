import { z } from "zod";
import { field, issue, list, snowflake } from "../guilds/guild-rules.js";

/** Discord's limits of custom emojis (https://discord.com/developers/docs/resources/emoji). */
export const EMOJI_LIMITS = {
  /** The image's bytes. */
  imageBytes: 256 * 1024,
  nameMin: 2,
  nameMax: 32,
  /** Roles one emoji may be restricted to (one per role of a guild at most). */
  roles: 250,
} as const;

const NAME_CHARACTERS = /^[A-Za-z0-9_]+$/;

/** An emoji name: 2 to 32 of A-Z, a-z, 0-9 and _, with Discord's form error codes. */
export function emojiName() {
  return field((value, ctx): string => {
    if (typeof value !== "string") return issue(ctx, "BASE_TYPE_STRING", "Must be a string.");
    if (value.length < EMOJI_LIMITS.nameMin || value.length > EMOJI_LIMITS.nameMax) {
      return issue(ctx, "BASE_TYPE_BAD_LENGTH", `Must be between ${EMOJI_LIMITS.nameMin} and ${EMOJI_LIMITS.nameMax} in length.`);
    }
    if (!NAME_CHARACTERS.test(value)) return issue(ctx, "STRING_TYPE_REGEX", "String value did not match validation regex.");
    return value;
  });
}

/** A data URI, decoded later (decodeImageDataUri) so that its errors name the field too. */
const dataUri = () => field((value, ctx): string => (typeof value === "string" ? value : issue(ctx, "BASE_TYPE_STRING", "Must be a string.")));

/** POST /guilds/:id/emojis. */
export const createEmojiSchema = z.object({
  name: emojiName(),
  image: dataUri(),
  roles: list(snowflake(), EMOJI_LIMITS.roles).nullish(),
});
export type CreateEmojiBody = z.infer<typeof createEmojiSchema>;

/** PATCH /guilds/:id/emojis/:emoji_id: the fields present change; `roles: null` lifts the restriction. */
export const modifyEmojiSchema = z.object({
  name: emojiName().optional(),
  roles: list(snowflake(), EMOJI_LIMITS.roles).nullish(),
});
export type ModifyEmojiBody = z.infer<typeof modifyEmojiSchema>;
