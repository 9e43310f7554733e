/**
 * The type and pixel size of PNG, GIF, JPEG and WebP images, read from their first bytes, as
 * Discord reports an image attachment's content_type, width and height. PNG, GIF and WebP
 * keep both in their first 30 bytes; JPEG in its SOF segment, after the segments before it
 * (EXIF, ICC profiles...), which are skipped by their lengths. Nothing is decoded.
 */

import { Transform, type TransformCallback } from "node:stream";

export type ImageType = "image/png" | "image/gif" | "image/jpeg" | "image/webp";

export type ImageProbe =
  /** An image of `contentType`; its width and height (both 0 when its header is too broken to say). */
  | { kind: "image"; contentType: ImageType; width: number; height: number }
  /** The bytes end before the answer; `contentType` once they show whose signature it is. */
  | { kind: "truncated"; contentType?: ImageType }
  /** None of the four formats. */
  | { kind: "none" };

const SIGNATURES: readonly { contentType: ImageType; bytes: readonly (number | undefined)[] }[] = [
  { contentType: "image/png", bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  // "GIF87a" / "GIF89a" (the 5th byte checked apart).
  { contentType: "image/gif", bytes: [0x47, 0x49, 0x46, 0x38, undefined, 0x61] },
  { contentType: "image/jpeg", bytes: [0xff, 0xd8, 0xff] },
  // "RIFF", the container's size, "WEBP".
  { contentType: "image/webp", bytes: [0x52, 0x49, 0x46, 0x46, undefined, undefined, undefined, undefined, 0x57, 0x45, 0x42, 0x50] },
];

/** What the first bytes of a file say about it as an image. */
export function probeImage(bytes: Uint8Array): ImageProbe {
  // The signatures that the bytes so far agree with (all of them for no bytes).
  const candidates = SIGNATURES.filter(({ contentType, bytes: signature }) =>
    signature.every((expected, i) => i >= bytes.length || expected === undefined || bytes[i] === expected) &&
    (contentType !== "image/gif" || bytes.length < 5 || bytes[4] === 0x37 || bytes[4] === 0x39),
  );
  if (candidates.length === 0) return { kind: "none" };
  const [match] = candidates;
  if (candidates.length > 1 || bytes.length < match.bytes.length) return { kind: "truncated" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (match.contentType) {
    case "image/png":
      // The IHDR chunk first: length (4), "IHDR", width (4), height (4), big-endian.
      if (bytes.length < 24) return { kind: "truncated", contentType: "image/png" };
      return ascii(bytes, 12, 16) === "IHDR" ? image("image/png", view.getUint32(16), view.getUint32(20)) : image("image/png", 0, 0);
    case "image/gif":
      // The logical screen's width and height, little-endian.
      if (bytes.length < 10) return { kind: "truncated", contentType: "image/gif" };
      return image("image/gif", view.getUint16(6, true), view.getUint16(8, true));
    case "image/jpeg":
      return jpeg(bytes, view);
    case "image/webp":
      return webp(bytes, view);
  }
}

/** An image; a zero width or height means its header does not tell its size. */
function image(contentType: ImageType, width: number, height: number): ImageProbe {
  return width > 0 && height > 0 ? { kind: "image", contentType, width, height } : { kind: "image", contentType, width: 0, height: 0 };
}

const ascii = (bytes: Uint8Array, start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));

/**
 * JPEG: markers `FF xx`, each segment but the standalone ones (TEM, RST0-7) with a big-endian
 * length that counts itself. A start-of-frame marker (C0-CF but C4 DHT, C8 JPG, CC DAC) holds
 * precision (1), height (2), width (2). Scan data (SOS) before any SOF means no size.
 */
function jpeg(bytes: Uint8Array, view: DataView): ImageProbe {
  let offset = 2;
  for (;;) {
    // Markers may be preceded by fill bytes (FF).
    while (offset < bytes.length && bytes[offset] === 0xff && bytes[offset + 1] === 0xff) offset++;
    if (offset + 2 > bytes.length) return { kind: "truncated", contentType: "image/jpeg" };
    if (bytes[offset] !== 0xff) return image("image/jpeg", 0, 0);
    const marker = bytes[offset + 1];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return image("image/jpeg", 0, 0);
    if (offset + 4 > bytes.length) return { kind: "truncated", contentType: "image/jpeg" };
    const length = view.getUint16(offset + 2);
    if (length < 2) return image("image/jpeg", 0, 0);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 9 > bytes.length) return { kind: "truncated", contentType: "image/jpeg" };
      return image("image/jpeg", view.getUint16(offset + 7), view.getUint16(offset + 5));
    }
    offset += 2 + length;
  }
}

/**
 * WebP: a RIFF container whose first chunk is `VP8 ` (lossy: 14-bit width and height after the
 * frame tag and start code), `VP8L` (lossless: 14-bit width-1 and height-1 after the
 * signature byte 2F) or `VP8X` (extended: 24-bit canvas width-1 and height-1).
 */
function webp(bytes: Uint8Array, view: DataView): ImageProbe {
  if (bytes.length < 16) return { kind: "truncated", contentType: "image/webp" };
  switch (ascii(bytes, 12, 16)) {
    case "VP8 ":
      if (bytes.length < 30) return { kind: "truncated", contentType: "image/webp" };
      if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return image("image/webp", 0, 0);
      return image("image/webp", view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
    case "VP8L": {
      if (bytes.length < 25) return { kind: "truncated", contentType: "image/webp" };
      if (bytes[20] !== 0x2f) return image("image/webp", 0, 0);
      const bits = view.getUint32(21, true);
      return image("image/webp", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    case "VP8X":
      if (bytes.length < 30) return { kind: "truncated", contentType: "image/webp" };
      return image("image/webp", uint24(bytes, 24) + 1, uint24(bytes, 27) + 1);
    default:
      return image("image/webp", 0, 0);
  }
}

const uint24 = (bytes: Uint8Array, offset: number) => bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);

/**
 * Passes a file through unchanged while reading it as an image: `signature` settles as soon as
 * its first bytes show whether it is one (and which), `result()` once it has passed through
 * holds its size. Only a prefix is kept, until the size is found and never beyond 1 MiB (a
 * JPEG's frame may follow EXIF and ICC segments; one further on goes unsized).
 */
export class ImageProbeStream extends Transform {
  static readonly MAX_PREFIX_BYTES = 1024 * 1024;
  /** The image type of the bytes, or undefined when they are no image this module knows. */
  readonly signature: Promise<ImageType | undefined>;
  private settleSignature!: (type: ImageType | undefined) => void;
  private signatureSettled = false;
  private prefix: Buffer[] = [];
  private prefixBytes = 0;
  /** Probing again only once the prefix doubled keeps the work linear in the prefix's size. */
  private probeAt = 0;
  private probe: ImageProbe = { kind: "truncated" };

  constructor() {
    super();
    this.signature = new Promise((resolve) => (this.settleSignature = resolve));
  }

  /** The image's type and size; 0 x 0 for anything else, or an image whose size was not found. */
  result(): { contentType?: ImageType; width: number; height: number } {
    const probe = this.probe;
    if (probe.kind === "image") return { contentType: probe.contentType, width: probe.width, height: probe.height };
    return { contentType: probe.kind === "truncated" ? probe.contentType : undefined, width: 0, height: 0 };
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.probe.kind === "truncated" && this.prefixBytes < ImageProbeStream.MAX_PREFIX_BYTES) {
      this.prefix.push(chunk);
      this.prefixBytes += chunk.length;
      if (this.prefixBytes >= this.probeAt || this.prefixBytes >= ImageProbeStream.MAX_PREFIX_BYTES) this.probePrefix();
    }
    this.settle(false);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.probe.kind === "truncated" && this.prefix.length > 0) this.probePrefix();
    this.settle(true);
    this.prefix = [];
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.settle(true);
    this.prefix = [];
    callback(error);
  }

  private probePrefix(): void {
    const bytes = Buffer.concat(this.prefix).subarray(0, ImageProbeStream.MAX_PREFIX_BYTES);
    this.prefix = [bytes];
    this.probe = probeImage(bytes);
    this.probeAt = Math.max(64, bytes.length * 2);
    // Sized, no image, or as far as it goes: the prefix is of no more use.
    if (this.probe.kind !== "truncated" || bytes.length >= ImageProbeStream.MAX_PREFIX_BYTES) this.prefix = [];
  }

  private settle(final: boolean): void {
    if (this.signatureSettled) return;
    const probe = this.probe;
    let type: ImageType | undefined;
    if (probe.kind === "image") type = probe.contentType;
    else if (probe.kind === "truncated") {
      if (probe.contentType) type = probe.contentType;
      else if (!final && this.prefixBytes < ImageProbeStream.MAX_PREFIX_BYTES) return;
    }
    this.signatureSettled = true;
    this.settleSignature(type);
  }
}
