import type { UploadedFile } from "../attachments/attachment-files.js";

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
  /**
   * The channel of `id`/`token` when it is a live pair this handler serves (e.g. an unexpired
   * interaction token of that application); undefined when it is not its own. The route keeps
   * uploaded files in that channel.
   */
  claim(id: bigint, token: string): Promise<{ channelId: bigint } | undefined>;
  /** `POST /webhooks/:id/:token` (body already parsed: JSON or multipart's payload_json, with its files); `wait` is `?wait=true`. Returns the Discord message JSON, or undefined for 204. */
  execute(id: bigint, token: string, body: unknown, options: { wait: boolean; files: readonly UploadedFile[] }): Promise<unknown | undefined>;
  /** `GET /webhooks/:id/:token/messages/:message_id`. */
  getMessage(id: bigint, token: string, messageId: bigint | "@original"): Promise<unknown>;
  /** `PATCH /webhooks/:id/:token/messages/:message_id` (with the form's files): the edited Discord message JSON. */
  editMessage(id: bigint, token: string, messageId: bigint | "@original", body: unknown, files: readonly UploadedFile[]): Promise<unknown>;
  /** `DELETE /webhooks/:id/:token/messages/:message_id` (204). */
  deleteMessage(id: bigint, token: string, messageId: bigint | "@original"): Promise<void>;
}
