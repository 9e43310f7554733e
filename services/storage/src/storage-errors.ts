import { Code, ConnectError } from "@connectrpc/connect";
import { AccountConflictError } from "./account-store.js";
import { GuildLogConflictError, GuildLogGapError } from "./guild-store.js";

/** The database cannot be reached or did not answer in time: callers get UNAVAILABLE. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/** Concurrent writes kept beating this one; the caller may retry (ABORTED). */
export class StoreContentionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreContentionError";
  }
}

export function invalidArgument(field: string, problem: string): ConnectError {
  return new ConnectError(`${field}: ${problem}`, Code.InvalidArgument);
}

/** Maps store failures to Connect codes at the contract boundary. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof StoreUnavailableError) return new ConnectError(err.message, Code.Unavailable, undefined, undefined, err);
  if (err instanceof AccountConflictError) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof StoreContentionError) return new ConnectError(err.message, Code.Aborted, undefined, undefined, err);
  if (err instanceof GuildLogConflictError) return new ConnectError(err.message, Code.Aborted, undefined, undefined, err);
  if (err instanceof GuildLogGapError) return new ConnectError(err.message, Code.FailedPrecondition, undefined, undefined, err);
  return ConnectError.from(err, Code.Internal);
}

/** Snowflakes are 64-bit but both databases store signed 64-bit integers (enough until 2084). */
const MAX_ID = (1n << 63n) - 1n;

/** A required snowflake field: non-zero and below 2^63, else INVALID_ARGUMENT naming `field`. */
export function requireId(field: string, id: bigint): bigint {
  if (id === 0n) throw invalidArgument(field, "required (a non-zero snowflake)");
  if (id > MAX_ID) throw invalidArgument(field, "must be a snowflake below 2^63");
  return id;
}

/** Runs a store call, mapping its failures to Connect codes. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toConnectError(err);
  }
}
