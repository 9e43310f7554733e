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
