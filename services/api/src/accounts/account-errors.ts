/**
 * What went wrong with an account request, independent of the surface that reports it: the
 * Discord edge renders these as Discord's JSON errors, the Connect API as Connect codes.
 * Field error codes are Discord's own (BASE_TYPE_REQUIRED, USERNAME_ALREADY_TAKEN...), since
 * Discord compatibility is the contract clients rely on.
 */
export interface FieldError {
  /** Where in the request: ["username"], ["avatar"]... ([] for the request as a whole). */
  path: string[];
  code: string;
  message: string;
}

/**
 * Why the fields were refused: bad input, a unique value another account holds, or a login
 * whose credentials do not match.
 */
export type FieldErrorReason = "invalid" | "conflict" | "credentials";

export class InvalidFieldsError extends Error {
  constructor(
    readonly errors: FieldError[],
    readonly reason: FieldErrorReason = "invalid",
  ) {
    super(errors.map((e) => `${e.path.join(".") || "(body)"}: ${e.message}`).join("; "));
    this.name = "InvalidFieldsError";
  }
}

/** No valid token: missing, malformed, unknown, revoked, of the wrong kind, or its account is gone. */
export class UnauthorizedError extends Error {
  constructor(reason = "missing or invalid token") {
    super(reason);
    this.name = "UnauthorizedError";
  }
}

export class UnknownUserError extends Error {
  constructor(readonly userId: string) {
    super(`user ${userId} not found`);
    this.name = "UnknownUserError";
  }
}

export const fieldError = (field: string, code: string, message: string): FieldError => ({ path: [field], code, message });

/**
 * A request Discord refuses with a JSON error code of its own rather than a form error:
 * 10002 Unknown Application, 20001 Bots cannot use this endpoint, 80000 friend requests
 * refused... `kind` says how each surface answers it (404 / NOT_FOUND, 403 /
 * PERMISSION_DENIED, 400 / FAILED_PRECONDITION); `field` is what the Connect message names.
 */
export class RequestRefusedError extends Error {
  constructor(
    readonly kind: "not_found" | "forbidden" | "precondition",
    /** Discord's JSON error code. */
    readonly code: number,
    /** Discord's message for the code ("Unknown Application"). */
    message: string,
    readonly field: string,
    /** Discord's HTTP status when it is not the kind's usual one (80004 unknown username: 400). */
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = "RequestRefusedError";
  }
}
