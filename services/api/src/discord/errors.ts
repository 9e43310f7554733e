import { STATUS_CODES } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { RESTJSONErrorCodes, type RESTError, type RESTErrorData, type RESTErrorFieldInformation } from "discord-api-types/v10";
import { InvalidFieldsError, UnauthorizedError, UnknownUserError, type FieldError } from "../accounts/account-errors.js";
import { AttachmentLimitError } from "../attachments/attachment-files.js";
import { GuildRequestError, RateLimitedError, fromGuildServiceError } from "../guilds/guild-errors.js";

/**
 * Discord's nested form errors, as built here: each path segment is a key, the errors of a
 * field sit under `_errors` at its end, e.g.
 * `{ "username": { "_errors": [{ "code": "BASE_TYPE_REQUIRED", "message": "..." }] } }`.
 * discord-api-types' RESTErrorData types the same structure more loosely.
 */
interface FormErrorNode {
  _errors?: RESTErrorFieldInformation[];
  [segment: string]: FormErrorNode | RESTErrorFieldInformation[] | undefined;
}

/** Discord's JSON error body, as discord-api-types defines it. */
export type DiscordErrorBody = RESTError;

/** An error answered with Discord's status and JSON body. */
export class DiscordHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: DiscordErrorBody,
  ) {
    super(body.message);
    this.name = "DiscordHttpError";
  }
}

/** Discord's answer to errors that have no specific JSON code: "401: Unauthorized", code 0. */
export function httpStatusError(status: number): DiscordHttpError {
  return new DiscordHttpError(status, { message: `${status}: ${STATUS_CODES[status] ?? "Error"}`, code: RESTJSONErrorCodes.GeneralError });
}

export function formErrors(fieldErrors: readonly FieldError[]): RESTErrorData {
  const root: FormErrorNode = {};
  for (const error of fieldErrors) {
    let node = root;
    for (const segment of error.path) node = (node[segment] ??= {}) as FormErrorNode;
    (node._errors ??= []).push({ code: error.code, message: error.message });
  }
  return root as RESTErrorData;
}

/** 400 Invalid Form Body (50035) naming every bad field. */
export function invalidFormBody(fieldErrors: readonly FieldError[]): DiscordHttpError {
  return new DiscordHttpError(400, {
    message: "Invalid Form Body",
    code: RESTJSONErrorCodes.InvalidFormBodyOrContentType,
    errors: formErrors(fieldErrors),
  });
}

/** Fastify's own client errors (bad JSON, body too large...) carry a statusCode and a code. */
interface FastifyClientError {
  statusCode?: number;
  code?: string;
}

/** The Discord answer to anything a route threw. */
export function toDiscordError(err: unknown): DiscordHttpError {
  if (err instanceof DiscordHttpError) return err;
  if (err instanceof InvalidFieldsError) return invalidFormBody(err.errors);
  if (err instanceof UnauthorizedError) return httpStatusError(401);
  if (err instanceof UnknownUserError) return new DiscordHttpError(404, { message: "Unknown User", code: RESTJSONErrorCodes.UnknownUser });
  if (err instanceof GuildRequestError) return new DiscordHttpError(err.status, { message: err.message, code: err.discordCode });
  // Discord's body for these has no `errors`; Chorus adds the field at fault, as for 50035.
  if (err instanceof AttachmentLimitError) return new DiscordHttpError(err.status, { message: err.message, code: err.discordCode, errors: formErrors([err.field]) });
  if (err instanceof RateLimitedError) {
    // Discord's 429 body (discord-api-types types it apart from RESTError).
    const body = { message: err.message, retry_after: err.retryAfter, global: false, code: err.discordCode };
    return new DiscordHttpError(429, body as DiscordErrorBody);
  }
  if (err instanceof ConnectError) {
    // A refusal of the guild service names Discord's code in its ErrorReason detail.
    const refusal = fromGuildServiceError(err);
    if (refusal !== err) return toDiscordError(refusal);
    // The mesh could not serve the request now; Discord answers such moments with 5xx too.
    if (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || err.code === Code.Aborted) return httpStatusError(503);
    return httpStatusError(500);
  }
  const { statusCode, code } = (err ?? {}) as FastifyClientError;
  if (code === "FST_ERR_CTP_INVALID_JSON_BODY" || err instanceof SyntaxError) {
    return new DiscordHttpError(400, { message: "The request body contains invalid JSON.", code: RESTJSONErrorCodes.RequestBodyContainsInvalidJSON });
  }
  if (statusCode === 413) return new DiscordHttpError(413, { message: "Request entity too large", code: RESTJSONErrorCodes.RequestEntityTooLarge });
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) return httpStatusError(statusCode);
  return httpStatusError(500);
}
