import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AttachmentFiles } from "./attachment-files.js";

type AttachmentParams = { Params: { channel_id: string; attachment_id: string; filename: string } };

/** Snowflakes in paths: 1-20 digits below 2^63; anything else names no attachment. */
function pathId(value: string): bigint | undefined {
  if (!/^\d{1,20}$/.test(value)) return undefined;
  const id = BigInt(value);
  return id > 0n && id < 1n << 63n ? id : undefined;
}

const notFound = (reply: FastifyReply) => reply.code(404).send({ message: "404: Not Found", code: 0 });

/**
 * The CDN of attachments, as Discord's `cdn.discordapp.com/attachments/<channel>/<id>/<filename>`:
 * public (whoever has the URL gets the file, as on Discord), streamed from the blob store with
 * its content type and length. An attachment's file never changes, so it is cached for a year
 * and its ETag is its id. The filename segment is for people and browsers' save dialogs: the
 * file is found by channel and id. Files are served so that a browser never runs them on this
 * origin (nosniff, and a sandboxing CSP for an uploaded HTML or SVG page).
 */
export function cdnRoutes(files: AttachmentFiles) {
  const serve = async (request: FastifyRequest<AttachmentParams>, reply: FastifyReply) => {
    const channelId = pathId(request.params.channel_id);
    const attachmentId = pathId(request.params.attachment_id);
    if (channelId === undefined || attachmentId === undefined) return notFound(reply);
    const blob = await files.open(channelId, attachmentId);
    if (!blob) return notFound(reply);
    const etag = `"${attachmentId}"`;
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
    // HEAD: the headers, without reading the file.
    if (request.method === "HEAD") {
      blob.body.destroy();
      return reply.send("");
    }
    return reply.send(blob.body);
  };
  return async (app: FastifyInstance) => {
    app.route<AttachmentParams>({ method: ["GET", "HEAD"], url: "/attachments/:channel_id/:attachment_id/:filename", handler: serve });
  };
}
