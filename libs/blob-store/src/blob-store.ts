import type { Readable } from "node:stream";

/**
 * Binary objects (attachments, emoji images...) by key, whatever holds them: a directory on
 * the local filesystem today, an object store (S3, GCS...) later. Keys are opaque to the
 * store; callers build them from ids (`attachments/<channel_id>/<attachment_id>`).
 */
export interface BlobStore {
  /**
   * Stores `body` under `key`, replacing what was there. The blob becomes visible only once
   * all of it is stored: readers never see a partial blob, and a failed put (the source
   * erred, or it passed `maxBytes`) leaves the key as it was.
   */
  put(key: string, body: BlobBody, options: PutOptions): Promise<BlobInfo>;
  /** The blob under `key` with a stream of its bytes, or undefined when there is none. */
  get(key: string): Promise<Blob | undefined>;
  /** What is known of the blob under `key` without reading it, or undefined when there is none. */
  head(key: string): Promise<BlobInfo | undefined>;
  /** Deletes the blob under `key`; false when there was none. */
  delete(key: string): Promise<boolean>;
}

export type BlobBody = Readable | AsyncIterable<Uint8Array> | Uint8Array;

export interface PutOptions {
  /** The MIME type the blob is served with. */
  contentType: string;
  /** Refuse the blob (BlobTooLargeError) once it passes this many bytes. */
  maxBytes?: number;
}

export interface BlobInfo {
  key: string;
  contentType: string;
  /** Bytes. */
  size: number;
}

export interface Blob extends BlobInfo {
  /** The bytes; read it to the end or destroy it. */
  body: Readable;
}

/** A put refused because its body passed `maxBytes`. */
export class BlobTooLargeError extends Error {
  constructor(
    readonly key: string,
    readonly maxBytes: number,
  ) {
    super(`blob ${key} is larger than ${maxBytes} bytes`);
    this.name = "BlobTooLargeError";
  }
}

/** A key no store accepts (see `checkBlobKey`). */
export class InvalidBlobKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid blob key ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)}: ${reason}`);
    this.name = "InvalidBlobKeyError";
  }
}

const SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_SEGMENTS = 8;

/**
 * Keys are 1 to 8 segments of letters, digits, `_` and `-` (1-128 each) joined by `/`. No
 * dots, so no key can climb out of a directory or collide with a store's own files, and every
 * key maps one to one onto a filesystem path and an object-store name.
 */
export function checkBlobKey(key: string): string {
  if (typeof key !== "string") throw new InvalidBlobKeyError(String(key), "not a string");
  const segments = key.split("/");
  if (segments.length > MAX_SEGMENTS) throw new InvalidBlobKeyError(key, `more than ${MAX_SEGMENTS} segments`);
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) throw new InvalidBlobKeyError(key, "segments are 1-128 of A-Z a-z 0-9 _ - joined by /");
  }
  return key;
}
