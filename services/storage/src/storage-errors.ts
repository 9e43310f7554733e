import { Code, ConnectError } from "@connectrpc/connect";

/** The database cannot be reached or did not answer in time: callers get UNAVAILABLE. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

export function invalidArgument(field: string, problem: string): ConnectError {
  return new ConnectError(`${field}: ${problem}`, Code.InvalidArgument);
}

/** Maps store failures to Connect codes at the contract boundary. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof StoreUnavailableError) return new ConnectError(err.message, Code.Unavailable, undefined, undefined, err);
  return ConnectError.from(err, Code.Internal);
}
