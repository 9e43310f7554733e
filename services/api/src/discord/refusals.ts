import type { FastifyInstance } from "fastify";
import { RequestRefusedError } from "../accounts/account-errors.js";
import { DiscordHttpError } from "./errors.js";

const STATUS_OF_REFUSAL: Record<RequestRefusedError["kind"], number> = { not_found: 404, forbidden: 403, precondition: 400 };

/** The Discord answer to a RequestRefusedError (`{code, message}` with its status); undefined for anything else. */
export function refusalAnswer(err: unknown): DiscordHttpError | undefined {
  if (!(err instanceof RequestRefusedError)) return undefined;
  return new DiscordHttpError(err.httpStatus ?? STATUS_OF_REFUSAL[err.kind], { message: err.message, code: err.code });
}

/**
 * Answers the refusals of the application and relationship logic in Discord's format, in the
 * scope of the route module that calls it; any other error (the guild service's refusals
 * included) goes on to the Discord API's own error handler, as fastify passes what an error
 * handler throws to its parent's.
 */
export function answerRefusals(app: FastifyInstance): void {
  app.setErrorHandler((err) => {
    throw refusalAnswer(err) ?? err;
  });
}
