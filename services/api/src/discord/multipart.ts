import type { FastifyReply, FastifyRequest } from "fastify";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import secureJson from "secure-json-parse";
import { ATTACHMENT_LIMITS, AttachmentLimitError, type AttachmentFiles, type UploadedFile } from "../attachments/attachment-files.js";
import { isRefusal } from "../messages/messages.js";
import { DiscordHttpError, invalidFormBody } from "./errors.js";

/** A message body sent as multipart/form-data, and the files that came with it (stored already). */
export interface MessageForm {
  body: unknown;
  files: UploadedFile[];
}

/** Bounds of the form around the files: payload_json (Discord's bodies stay far below 1 MiB), plain fields, parts. */
export const FORM_LIMITS = { fieldBytes: 1024 * 1024, fields: 50, parts: 100 } as const;

const invalidJson = () => new DiscordHttpError(400, { message: "The request body contains invalid JSON.", code: RESTJSONErrorCodes.RequestBodyContainsInvalidJSON });

/**
 * Reads a multipart message request as Discord takes it: the JSON body in `payload_json` (or,
 * without one, the plain fields as the body's values) and files as `files[n]` parts, in any
 * order (@discordjs/rest sends the files first). Each file streams into the blob store as it
 * arrives; if anything is refused, the files stored so far are deleted again. Refusals: more
 * than 10 files → 400 30015, a file over the limit → 413 40005 (both naming the part), bad
 * payload_json → 400 50109, a malformed form → 400 50035.
 */
export async function readMessageForm(request: FastifyRequest, channelId: bigint, attachments: AttachmentFiles): Promise<MessageForm> {
  const files: UploadedFile[] = [];
  const fields: Record<string, unknown> = {};
  let payload: { value: unknown } | undefined;
  try {
    const parts = request.parts({
      limits: {
        fileSize: attachments.maxFileBytes,
        // One more than allowed, so that the 11th file reaches the check below and is named.
        files: ATTACHMENT_LIMITS.files + 1,
        fieldSize: FORM_LIMITS.fieldBytes,
        fields: FORM_LIMITS.fields,
        parts: FORM_LIMITS.parts,
      },
    });
    for await (const part of parts) {
      if (part.type === "field") {
        if (part.valueTruncated) {
          throw new AttachmentLimitError(413, RESTJSONErrorCodes.RequestEntityTooLarge, "Request entity too large", {
            path: [part.fieldname],
            code: "BASE_TYPE_MAX_LENGTH",
            message: `Must be ${FORM_LIMITS.fieldBytes} or fewer in length.`,
          });
        }
        if (part.fieldname === "payload_json") {
          // A part declared application/json arrives parsed; discord.js sends a plain string.
          payload = { value: typeof part.value === "string" ? parseJson(part.value) : part.value };
        } else fields[part.fieldname] = part.value;
        continue;
      }
      if (files.length >= ATTACHMENT_LIMITS.files) {
        part.file.resume();
        throw AttachmentLimitError.tooMany([part.fieldname]);
      }
      files.push(
        await attachments.store(channelId, {
          field: part.fieldname,
          filename: part.filename,
          declaredType: part.mimetype,
          body: part.file,
          truncated: () => part.file.truncated,
        }),
      );
    }
  } catch (err) {
    await attachments.discard(files);
    throw formError(err);
  }
  return { body: payload ? payload.value : fields, files };
}

function parseJson(text: string): unknown {
  try {
    return secureJson.parse(text, undefined, { protoAction: "error", constructorAction: "error" });
  } catch {
    throw invalidJson();
  }
}

/**
 * What the client hears of a failure while reading the form: our own refusals and fastify's
 * (413 limits, with a status) as they are; system errors (the disk) as they are, which become
 * 500; anything else is busboy finding the form malformed.
 */
function formError(err: unknown): unknown {
  if (err instanceof AttachmentLimitError || err instanceof DiscordHttpError) return err;
  const { code, statusCode, syscall } = (err ?? {}) as { code?: string; statusCode?: number; syscall?: string };
  if (code === "FST_INVALID_JSON_FIELD_ERROR") return invalidJson();
  if (typeof statusCode === "number" || syscall !== undefined || !(err instanceof Error)) return err;
  return invalidFormBody([{ path: [], code: "BASE_TYPE_INVALID", message: `Malformed multipart body: ${err.message}` }]);
}

/** What is read and dropped of a refused form's rest before answering (see `settleRefusedForm`). */
const REFUSED_REST = { bytes: 1024 * 1024, ms: 2000 } as const;

/**
 * A form refused before its end (too many files, a file over the limit, the caller may not
 * attach files): the client may still be sending. If little is left, read and drop it first,
 * so the client, still writing, gets the answer rather than a reset connection (EPIPE); if more
 * than REFUSED_REST is left, stop reading, answer, and close the connection instead of taking
 * in what nobody will use.
 */
export async function settleRefusedForm(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const raw = request.raw;
  if (raw.readableEnded || raw.destroyed) return;
  // The form parser may still be attached (and paused on a file nobody reads): take over.
  raw.unpipe();
  const drained = await new Promise<boolean>((resolve) => {
    let seen = 0;
    const finish = (whole: boolean) => {
      clearTimeout(timer);
      raw.off("data", onData).off("end", onEnd).off("error", onFail).off("close", onFail);
      resolve(whole);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > REFUSED_REST.bytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onFail = () => finish(false);
    const timer = setTimeout(onFail, REFUSED_REST.ms);
    raw.on("data", onData).once("end", onEnd).once("error", onFail).once("close", onFail);
    raw.resume();
  });
  if (!drained) reply.header("connection", "close");
}

/**
 * A message route's body, JSON or multipart, handed to `run`. Multipart files are stored as they
 * arrive (after `beforeFiles`, e.g. a permission check, so a refusal costs no upload) in
 * `channelId`'s folder (a function when the channel takes a lookup, made only for a form); a form
 * refused midway is settled (settleRefusedForm) and, if `run` is refused, its files are deleted
 * again. When the outcome is unknown (the mesh failed under it) they stay: the message may have
 * been stored with them.
 */
export async function withMessageForm<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  channelId: bigint | (() => Promise<bigint>),
  attachments: AttachmentFiles,
  run: (form: MessageForm) => Promise<T>,
  beforeFiles?: () => Promise<void>,
): Promise<T> {
  let form: MessageForm = { body: request.body, files: [] };
  if (request.isMultipart()) {
    try {
      await beforeFiles?.();
      // A channel that must be asked for (an interaction's) is asked only when files come.
      const channel = typeof channelId === "bigint" ? channelId : await channelId();
      form = await readMessageForm(request, channel, attachments);
    } catch (err) {
      await settleRefusedForm(request, reply);
      throw err;
    }
  }
  try {
    return await run(form);
  } catch (err) {
    if (isRefusal(err)) await attachments.discard(form.files);
    throw err;
  }
}
