import { constants, createDeflate, type Deflate } from "node:zlib";

/**
 * Discord's `compress=zlib-stream` transport compression: one zlib (deflate) context for the
 * whole connection, every message flushed with Z_SYNC_FLUSH so it ends in 00 00 FF FF and a
 * client inflates it with the context of the messages before it.
 */
export class ZlibStream {
  private readonly deflate: Deflate = createDeflate({ chunkSize: 64 * 1024 });
  private chunks: Buffer[] = [];

  constructor() {
    this.deflate.on("data", (chunk: Buffer) => this.chunks.push(chunk));
  }

  /** Compresses one message; `done` gets its bytes. Calls complete in the order they were made. */
  compress(message: Buffer, done: (compressed: Buffer) => void): void {
    this.deflate.write(message);
    this.deflate.flush(constants.Z_SYNC_FLUSH, () => {
      const out = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [];
      done(out);
    });
  }

  close(): void {
    this.deflate.destroy();
  }
}

/** The bytes every zlib-stream message ends with. */
export const ZLIB_SUFFIX = Buffer.from([0x00, 0x00, 0xff, 0xff]);
