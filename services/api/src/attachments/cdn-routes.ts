import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Blob } from "@chorus/blob-store";
import type { Emojis } from "../emojis/emojis.js";
import type { AttachmentFiles } from "./attachment-files.js";

type AttachmentParams = { Params: { channel_id: string; attachment_id: string; filename: string } };
type EmojiParams = { Params: { file: string } };

/** Snowflakes in paths: 1-20 digits below 2^63; anything else names no attachment. */
function pathId(value: string): bigint | undefined {
  if (!/^\d{1,20}$/.test(value)) return undefined;
  const id = BigInt(value);
  return id > 0n && id < 1n << 63n ? id : undefined;
}

const notFound = (reply: FastifyReply) => reply.code(404).send({ message: "404: Not Found", code: 0 });

/**
 * Sends a blob that never changes under its id: cached for a year, its ETag the id, served so
 * that a browser never runs it on this origin (nosniff, and a sandboxing CSP for an uploaded
 * HTML or SVG page). HEAD: the headers, without reading the blob.
 */
function sendImmutable(request: FastifyRequest, reply: FastifyReply, blob: Blob, id: bigint) {
  const etag = `"${id}"`;
  reply
    .header("cache-control", "public, max-age=31536000, immutable")
    .header("etag", etag)
    .header("x-content-type-options", "nosniff")
    .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
  if (request.headers["if-none-match"] === etag) {
    blob.body.destroy();
    return reply.code(304).send();
  }
  reply.header("content-type", blob.contentType).header("content-length", blob.size);
  if (request.method === "HEAD") {
    blob.body.destroy();
    return reply.send("");
  }
  return reply.send(blob.body);
}

/** Discord's CDN extensions of emoji images. */
const EMOJI_FILE = /^(\d{1,20})\.(png|gif|webp|jpg|jpeg)$/;

/**
 * The CDN, as Discord's `cdn.discordapp.com`: public (whoever has the URL gets the file, as on
 * Discord), streamed from the blob store with its content type and length.
 * - Attachments at `/attachments/<channel>/<id>/<filename>`. The filename segment is for
 *   people and browsers' save dialogs: the file is found by channel and id.
 * - Custom emojis at `/emojis/<id>.<png|gif|webp|jpg>`. Discord converts to the extension
 *   asked for; Chorus has no image conversion yet, so every extension serves the uploaded
 *   image as it is, with its own content type.
 */
export function cdnRoutes(files: AttachmentFiles, emojis: Pick<Emojis, "open">) {
  const serveAttachment = async (request: FastifyRequest<AttachmentParams>, reply: FastifyReply) => {
    const channelId = pathId(request.params.channel_id);
    const attachmentId = pathId(request.params.attachment_id);
    if (channelId === undefined || attachmentId === undefined) return notFound(reply);
    const blob = await files.open(channelId, attachmentId);
    if (!blob) return notFound(reply);
    return sendImmutable(request, reply, blob, attachmentId);
  };
  const serveEmoji = async (request: FastifyRequest<EmojiParams>, reply: FastifyReply) => {
    const match = EMOJI_FILE.exec(request.params.file);
    const emojiId = match ? pathId(match[1]) : undefined;
    if (emojiId === undefined) return notFound(reply);
    const blob = await emojis.open(emojiId);
    if (!blob) return notFound(reply);
    return sendImmutable(request, reply, blob, emojiId);
  };
  return async (app: FastifyInstance) => {
    app.route<AttachmentParams>({ method: ["GET", "HEAD"], url: "/attachments/:channel_id/:attachment_id/:filename", handler: serveAttachment });
    app.route<EmojiParams>({ method: ["GET", "HEAD"], url: "/emojis/:file", handler: serveEmoji });
  };
}
