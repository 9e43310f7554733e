import type { MessageInitShape } from "@bufbuild/protobuf";
import { pipeline, type Readable } from "node:stream";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import mime from "mime";
import { BlobTooLargeError, type Blob, type BlobStore } from "@chorus/blob-store";
import type { AttachmentSchema } from "@chorus/contracts/chorus/chat/v1/message_pb";
import type { Logger } from "@chorus/mesh";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import type { FieldError } from "../accounts/account-errors.js";
import { ImageProbeStream } from "./image-headers.js";

export type AttachmentInit = MessageInitShape<typeof AttachmentSchema>;

/** Discord's limits on a message's files. */
export const ATTACHMENT_LIMITS = {
  /** Files per message. */
  files: 10,
  /** Discord's default per-file limit (CHORUS_MAX_ATTACHMENT_BYTES changes it). */
  fileBytes: 10 * 1024 * 1024,
  filename: 1024,
  description: 1024,
} as const;

/**
 * A refusal of a message's files that Discord answers with a code of its own rather than 50035:
 * 413 40005 Request entity too large (a file over the limit), 400 30015 (more than 10 files).
 * `field` names the file (`files[3]`) or list at fault.
 */
export class AttachmentLimitError extends Error {
  constructor(
    readonly status: 400 | 413,
    readonly discordCode: number,
    message: string,
    readonly field: FieldError,
  ) {
    super(message);
    this.name = "AttachmentLimitError";
  }

  static fileTooLarge(field: string, maxBytes: number): AttachmentLimitError {
    const size = maxBytes % (1024 * 1024) === 0 ? `${(maxBytes / (1024 * 1024)).toFixed(2)} MB` : `${maxBytes} bytes`;
    return new AttachmentLimitError(413, RESTJSONErrorCodes.RequestEntityTooLarge, "Request entity too large", {
      path: [field],
      code: "BINARY_TYPE_MAX_SIZE",
      message: `File cannot be larger than ${size}.`,
    });
  }

  static tooMany(path: string[]): AttachmentLimitError {
    const message = `Maximum number of attachments in a message reached (${ATTACHMENT_LIMITS.files})`;
    return new AttachmentLimitError(400, RESTJSONErrorCodes.MaximumNumberOfAttachmentsInAMessageReached, message, {
      path,
      code: "BASE_TYPE_MAX_LENGTH",
      message: `Must be ${ATTACHMENT_LIMITS.files} or fewer in length.`,
    });
  }
}

/** A file of a message being sent, stored and waiting for the message. */
export interface UploadedFile {
  /** The form field it came in (`files[3]`), for errors. */
  readonly field: string;
  /** The `n` of `files[n]`: what `attachments[].id` in the body refers to it by. */
  readonly placeholder: bigint | undefined;
  readonly id: bigint;
  readonly channelId: bigint;
  /** The attachment it becomes, with the body's filename and description when it gives them. */
  attachment(overrides?: { filename?: string | null; description?: string | null }): AttachmentInit;
}

/** A file as it arrives: its form field, the filename and type the client declared, its bytes. */
export interface IncomingFile {
  field: string;
  filename: string;
  declaredType: string;
  body: Readable;
  /** True once the transport cut the file at the size limit (busboy's `truncated`). */
  truncated?: () => boolean;
}

export interface AttachmentFilesOptions {
  blobs: BlobStore;
  ids: SnowflakeGenerator;
  /** Per-file limit in bytes. */
  maxFileBytes: number;
  /** Where attachment URLs point: the edge's public address (no trailing slash). */
  cdnBaseUrl: () => string;
  logger: Logger;
}

const FILES_FIELD = /^files\[(\d{1,20})\]$/;
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** The filename Discord would keep: no path, no control characters, spaces as underscores. */
export function attachmentFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const cleaned = base
    .replace(/[\p{Cc}\p{Cf}]/gu, "")
    .trim()
    .replace(/\s+/g, "_");
  const limited = [...cleaned].slice(0, ATTACHMENT_LIMITS.filename).join("");
  return limited === "" || /^\.+$/.test(limited) ? "unknown" : limited;
}

/**
 * An attachment's content type: what its bytes say for the images this module knows, else what
 * the client declared, unless that says nothing (octet-stream: undici's and @discordjs/rest's
 * default), then what the filename's extension says.
 */
function contentTypeOf(image: string | undefined, file: IncomingFile): string {
  if (image) return image;
  const declared = file.declaredType.toLowerCase();
  if (MIME_TYPE.test(declared) && declared !== "application/octet-stream") return declared;
  return mime.getType(file.filename) ?? "application/octet-stream";
}

/** The `n` of a `files[n]` field. */
export function placeholderOf(field: string): bigint | undefined {
  const match = FILES_FIELD.exec(field);
  return match ? BigInt(match[1]) : undefined;
}

/**
 * The files of messages: each stored in the blob store under `attachments/<channel>/<id>` as it
 * streams in (never held in memory beyond the first bytes an image's size needs), typed by its
 * bytes when they are an image (PNG, GIF, JPEG, WebP) and by what the client declared
 * otherwise, and served back by the CDN route at `<base>/attachments/<channel>/<id>/<filename>`.
 */
export class AttachmentFiles {
  constructor(private readonly options: AttachmentFilesOptions) {}

  get maxFileBytes(): number {
    return this.options.maxFileBytes;
  }

  /** Stores one file of a message in `channelId`; 413 (AttachmentLimitError) past the size limit. */
  async store(channelId: bigint, file: IncomingFile): Promise<UploadedFile> {
    const id = this.options.ids.next();
    const key = blobKey(channelId, id);
    const probe = new ImageProbeStream();
    // pipeline (not pipe): an aborted upload destroys the probe, and so fails the put.
    pipeline(file.body, probe, () => {});
    const contentType = contentTypeOf(await probe.signature, file);
    let size: number;
    try {
      size = (await this.options.blobs.put(key, probe, { contentType, maxBytes: this.options.maxFileBytes })).size;
    } catch (err) {
      if (err instanceof BlobTooLargeError) throw AttachmentLimitError.fileTooLarge(file.field, this.options.maxFileBytes);
      throw err;
    }
    if (file.truncated?.()) {
      await this.remove(channelId, [id]);
      throw AttachmentLimitError.fileTooLarge(file.field, this.options.maxFileBytes);
    }
    const { width, height } = probe.result();
    const uploadedName = attachmentFilename(file.filename);
    const url = (filename: string) => `${this.options.cdnBaseUrl()}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    return {
      field: file.field,
      placeholder: placeholderOf(file.field),
      id,
      channelId,
      attachment: (overrides = {}) => {
        const filename = overrides.filename ? attachmentFilename(overrides.filename) : uploadedName;
        return {
          id,
          filename,
          contentType,
          size: BigInt(size),
          url: url(filename),
          proxyUrl: url(filename),
          width,
          height,
          description: overrides.description ?? "",
        };
      },
    };
  }

  /** The file of an attachment, or undefined when there is none. */
  open(channelId: bigint, attachmentId: bigint): Promise<Blob | undefined> {
    return this.options.blobs.get(blobKey(channelId, attachmentId));
  }

  /** Deletes the files of attachments; failures are logged, not thrown (a file left behind is only space). */
  async remove(channelId: bigint, attachmentIds: readonly bigint[]): Promise<void> {
    await Promise.all(
      attachmentIds.map((id) =>
        this.options.blobs.delete(blobKey(channelId, id)).catch((err: unknown) => {
          this.options.logger.warn({ err, channelId: String(channelId), attachmentId: String(id) }, "could not delete an attachment's file");
        }),
      ),
    );
  }

  /** Deletes the files of uploads whose message was refused. */
  discard(files: readonly UploadedFile[]): Promise<void> {
    return Promise.all(files.map((f) => this.remove(f.channelId, [f.id]))).then(() => undefined);
  }
}

const blobKey = (channelId: bigint, attachmentId: bigint) => `attachments/${channelId}/${attachmentId}`;
