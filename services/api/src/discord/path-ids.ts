import { InvalidSnowflakeError, parseSnowflake } from "@chorus/snowflake";
import { InvalidFieldsError, fieldError } from "../accounts/account-errors.js";

/** The id in a path, or Discord's form error naming it (`guild_id: NUMBER_TYPE_COERCE`). */
export function pathSnowflake(field: string, value: string): bigint {
  try {
    return parseSnowflake(value);
  } catch (err) {
    if (!(err instanceof InvalidSnowflakeError)) throw err;
    throw new InvalidFieldsError([fieldError(field, "NUMBER_TYPE_COERCE", `Value "${value}" is not snowflake.`)]);
  }
}

/** Several path ids at once, every bad one named. */
export function pathSnowflakes<K extends string>(params: Record<K, string>): Record<K, bigint> {
  const ids = {} as Record<K, bigint>;
  const errors = [];
  for (const [field, value] of Object.entries(params) as [K, string][]) {
    try {
      ids[field] = pathSnowflake(field, value);
    } catch (err) {
      if (!(err instanceof InvalidFieldsError)) throw err;
      errors.push(...err.errors);
    }
  }
  if (errors.length > 0) throw new InvalidFieldsError(errors);
  return ids;
}
