import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobTooLargeError, checkBlobKey, type Blob, type BlobBody, type BlobInfo, type BlobStore, type PutOptions } from "./blob-store.js";

/** What the `.json` beside each blob holds. */
interface StoredMetadata {
  contentType: string;
  size: number;
}

/**
 * A BlobStore in a local directory: the blob of `a/b` is the file `a/b.blob`, its content type
 * and size are in `a/b.json`. Writes go to a temporary file under `.tmp/` that is flushed to
 * disk and renamed into place, then the metadata the same way; a blob exists once its
 * metadata does. Renames are atomic, so several processes (api nodes on one machine) can share
 * one directory: a reader sees a whole blob or none, and of two puts of one key the last
 * rename wins. Keys have no dots (checkBlobKey), so they never meet `.tmp` or each other's
 * `.blob` / `.json` files.
 */
export class FilesystemBlobStore implements BlobStore {
  readonly directory: string;
  private readonly tmpDirectory: string;

  constructor(directory: string) {
    this.directory = resolve(directory);
    this.tmpDirectory = join(this.directory, ".tmp");
  }

  async put(key: string, body: BlobBody, options: PutOptions): Promise<BlobInfo> {
    const paths = this.paths(checkBlobKey(key));
    await mkdir(this.tmpDirectory, { recursive: true });
    await mkdir(dirname(paths.data), { recursive: true });
    const tmpData = join(this.tmpDirectory, randomUUID());
    const tmpMeta = `${tmpData}.json`;
    const counter = new ByteCounter(key, options.maxBytes);
    try {
      // `flush` fsyncs before close: the rename never publishes a file whose bytes are not on disk.
      await pipeline(readableOf(body), counter, createWriteStream(tmpData, { flags: "wx", flush: true }));
      const metadata: StoredMetadata = { contentType: options.contentType, size: counter.bytes };
      await writeFile(tmpMeta, JSON.stringify(metadata), { flag: "wx", flush: true });
      await rename(tmpData, paths.data);
      await rename(tmpMeta, paths.meta);
      return { key, ...metadata };
    } catch (err) {
      await Promise.all([removeIfPresent(tmpData), removeIfPresent(tmpMeta)]);
      throw err;
    }
  }

  async get(key: string): Promise<Blob | undefined> {
    const paths = this.paths(checkBlobKey(key));
    const metadata = await this.metadata(paths.meta);
    if (!metadata) return undefined;
    const handle = await open(paths.data, "r").catch(ifMissing(undefined));
    // Deleted between the two reads.
    if (!handle) return undefined;
    try {
      // The size of the file actually opened, which a concurrent put of the key cannot change.
      const { size } = await handle.stat();
      return { key, contentType: metadata.contentType, size, body: handle.createReadStream() };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    const metadata = await this.metadata(this.paths(checkBlobKey(key)).meta);
    return metadata && { key, ...metadata };
  }

  async delete(key: string): Promise<boolean> {
    const paths = this.paths(checkBlobKey(key));
    // Metadata first: the blob stops existing for readers before its bytes go.
    const hadMetadata = await removeIfPresent(paths.meta);
    const hadData = await removeIfPresent(paths.data);
    return hadMetadata || hadData;
  }

  private paths(key: string) {
    const base = join(this.directory, ...key.split("/"));
    return { data: `${base}.blob`, meta: `${base}.json` };
  }

  private async metadata(path: string): Promise<StoredMetadata | undefined> {
    const text = await readFile(path, "utf8").catch(ifMissing(undefined));
    if (text === undefined) return undefined;
    const parsed = JSON.parse(text) as Partial<StoredMetadata>;
    if (typeof parsed.contentType !== "string" || typeof parsed.size !== "number") throw new Error(`${path}: not blob metadata`);
    return { contentType: parsed.contentType, size: parsed.size };
  }
}

/** Counts the bytes passing through; fails with BlobTooLargeError past `maxBytes`. */
class ByteCounter extends Transform {
  bytes = 0;

  constructor(
    private readonly key: string,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) callback(new BlobTooLargeError(this.key, this.maxBytes));
    else callback(null, chunk);
  }
}

function readableOf(body: BlobBody): Readable {
  if (body instanceof Readable) return body;
  // One chunk, not a stream of numbers: Readable.from iterates a Buffer as a whole.
  if (body instanceof Uint8Array) return Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
  return Readable.from(body);
}

const ifMissing =
  <T>(fallback: T) =>
  (err: NodeJS.ErrnoException): T => {
    if (err.code === "ENOENT") return fallback;
    throw err;
  };

/** Unlinks `path`; false when it did not exist. */
async function removeIfPresent(path: string): Promise<boolean> {
  return unlink(path).then(() => true, ifMissing(false));
}
