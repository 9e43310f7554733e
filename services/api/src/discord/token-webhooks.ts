/**
 * Discord serves two things under `/webhooks/:id/:token`: channel webhooks (id = webhook id,
 * token = the webhook's token) and interaction follow-ups (id = application id, token = an
 * interaction token). One route module owns those paths (routes/webhooks.ts); for an id/token
 * pair that is not a channel webhook it asks the interaction side through this port, so each
 * side keeps its own rules and the route table has one entry per path.
 *
 * `messageId` is a snowflake or "@original" (the interaction's first response). A handler
 * answers `undefined` from `claims` when the pair is not its own; the route then answers
 * 10015 Unknown Webhook, as Discord does for a bad pair.
 */
export interface TokenWebhookHandler {
  /** Whether `id`/`token` is a live pair this handler serves (e.g. an unexpired interaction token of that application). */
  claims(id: bigint, token: string): Promise<boolean>;
  /** `POST /webhooks/:id/:token` (body already parsed: JSON or multipart's payload_json); `wait` is `?wait=true`. Returns the Discord message JSON, or undefined for 204. */
  execute(id: bigint, token: string, body: unknown, options: { wait: boolean }): Promise<unknown | undefined>;
  /** `GET /webhooks/:id/:token/messages/:message_id`. */
  getMessage(id: bigint, token: string, messageId: bigint | "@original"): Promise<unknown>;
  /** `PATCH /webhooks/:id/:token/messages/:message_id`: the edited Discord message JSON. */
  editMessage(id: bigint, token: string, messageId: bigint | "@original", body: unknown): Promise<unknown>;
  /** `DELETE /webhooks/:id/:token/messages/:message_id` (204). */
  deleteMessage(id: bigint, token: string, messageId: bigint | "@original"): Promise<void>;
}
