import type { JsonObject } from "@bufbuild/protobuf";
import { z } from "zod";
import { bool, int, text } from "../guilds/guild-rules.js";
import { boundedList, compactJson, formIssue } from "./form-schemas.js";

/**
 * Embeds as Discord validates them: at most 10 per message; title 256 characters,
 * description 4096, up to 25 fields with a name of 256 and a value of 1024, footer text
 * 2048, author name 256; and all the embeds of a message together at most 6000 characters
 * of title, description, field names and values, footer text and author name. What comes out
 * is what Discord stores: unknown keys dropped, `type` "rich", fields' `inline` false unless set.
 */

export const EMBED_LIMITS = {
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  url: 2048,
  total: 6000,
} as const;

/** Characters as Discord counts them for the limits (code points). */
const lengthOf = (value: string | null | undefined) => (value ? [...value].length : 0);

const url = () => text(1, EMBED_LIMITS.url);
const media = z.object({ url: url(), height: int(0, 2 ** 31 - 1).nullish(), width: int(0, 2 ** 31 - 1).nullish() });

/** An ISO 8601 timestamp, stored as Discord writes them. */
const timestamp = () =>
  z.unknown().transform((value, ctx) => {
    const date = typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) {
      formIssue(ctx, [], "DATE_TIME_TYPE_PARSE", `Could not parse ${JSON.stringify(value)}. Should be ISO8601.`);
      return z.NEVER;
    }
    return date.toISOString();
  });

const embedSchema = z.object({
  type: text(0, 32).nullish(),
  title: text(0, EMBED_LIMITS.title).nullish(),
  description: text(0, EMBED_LIMITS.description).nullish(),
  url: url().nullish(),
  timestamp: timestamp().nullish(),
  color: int(0, 0xffffff).nullish(),
  footer: z.object({ text: text(1, EMBED_LIMITS.footerText), icon_url: url().nullish() }).nullish(),
  image: media.nullish(),
  thumbnail: media.nullish(),
  video: media.nullish(),
  provider: z.object({ name: text(0, 256).nullish(), url: url().nullish() }).nullish(),
  author: z.object({ name: text(1, EMBED_LIMITS.authorName), url: url().nullish(), icon_url: url().nullish() }).nullish(),
  fields: boundedList(
    z.object({ name: text(1, EMBED_LIMITS.fieldName), value: text(1, EMBED_LIMITS.fieldValue), inline: bool().nullish() }),
    { max: EMBED_LIMITS.fields },
  ).nullish(),
});

type Embed = z.infer<typeof embedSchema>;

/** The characters of an embed that count toward the 6000 of a message. */
export function embedSize(embed: Embed): number {
  return (
    lengthOf(embed.title) +
    lengthOf(embed.description) +
    (embed.fields ?? []).reduce((sum, field) => sum + lengthOf(field.name) + lengthOf(field.value), 0) +
    lengthOf(embed.footer?.text) +
    lengthOf(embed.author?.name)
  );
}

/** The `embeds` field of a message. */
export const embedsSchema = boundedList(embedSchema, { max: EMBED_LIMITS.embeds })
  .superRefine((embeds, ctx) => {
    const total = embeds.reduce((sum, embed) => sum + embedSize(embed), 0);
    if (total > EMBED_LIMITS.total) formIssue(ctx, [], "MAX_EMBED_SIZE_EXCEEDED", `Embed size exceeds maximum size of ${EMBED_LIMITS.total}`);
  })
  .transform((embeds): JsonObject[] =>
    embeds.map((embed) =>
      compactJson({
        ...embed,
        // Messages posted through the API carry rich embeds (link previews are Discord's own).
        type: "rich",
        fields: embed.fields?.map((field) => ({ ...field, inline: field.inline ?? false })),
      }),
    ),
  );
