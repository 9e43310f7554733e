import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { z } from "zod";

/**
 * Zod building blocks of the message rules beyond guild-rules' field types: Discord's form
 * errors at a path of our choosing, lists with Discord's length errors, objects told apart by
 * their `type`, and the JSON a validated object is stored as.
 */

type Ctx = z.RefinementCtx;
export type Path = (string | number)[];

/** Adds Discord's form error `code` at `path` (relative to the value being checked). */
export function formIssue(ctx: Ctx, path: Path, code: string, message: string): void {
  ctx.addIssue({ code: "custom", path, message, params: { discord: code } });
}

export const isDict = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A list of `min` to `max` items; undefined is BASE_TYPE_REQUIRED. */
export function boundedList<T extends z.ZodType>(item: T, bounds: { min?: number; max: number }) {
  const min = bounds.min ?? 0;
  return z
    .unknown()
    .transform((value, ctx) => {
      if (value === undefined) {
        formIssue(ctx, [], "BASE_TYPE_REQUIRED", "This field is required");
        return z.NEVER;
      }
      if (!Array.isArray(value)) {
        formIssue(ctx, [], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
        return z.NEVER;
      }
      if (value.length < min || value.length > bounds.max) {
        if (min === 0) formIssue(ctx, [], "BASE_TYPE_MAX_LENGTH", `Must be ${bounds.max} or fewer in length.`);
        else formIssue(ctx, [], "BASE_TYPE_BAD_LENGTH", `Must be between ${min} and ${bounds.max} in length.`);
        return z.NEVER;
      }
      return value as unknown[];
    })
    .pipe(z.array(item));
}

/**
 * A dictionary checked by the schema its `type` selects; an unknown type is Discord's
 * UNION_TYPE_CHOICES at `type`.
 */
export function byType<T>(schemas: ReadonlyMap<number, z.ZodType<T>>) {
  const choices = [...schemas.keys()].join(", ");
  return z.unknown().transform((value, ctx): T => {
    if (!isDict(value)) {
      formIssue(ctx, [], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
      return z.NEVER;
    }
    const schema = typeof value.type === "number" ? schemas.get(value.type) : undefined;
    if (!schema) {
      formIssue(ctx, ["type"], "UNION_TYPE_CHOICES", `Value of field "type" must be one of (${choices}).`);
      return z.NEVER;
    }
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  });
}

/** The JSON of a parsed object: without the keys Discord leaves out when they are unset (undefined, null). */
export function compactJson(value: Record<string, unknown>): JsonObject {
  const json: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const compact = compactValue(item);
    if (compact !== undefined) json[key] = compact;
  }
  return json;
}

function compactValue(value: unknown): JsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map((item) => compactValue(item) ?? null);
  if (isDict(value)) return compactJson(value);
  return value as JsonValue;
}
