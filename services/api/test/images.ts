// Images of a chosen size for the attachment tests, built here so that no fixture files are
// needed: a real PNG (zlib-compressed pixels, valid CRCs), a real GIF without pixel data, and
// JPEG and WebP files whose headers are as encoders write them (their pixel data is filler).
import { crc32, deflateSync } from "node:zlib";

const u16be = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u16le = (n: number) => Buffer.from([n & 0xff, n >> 8]);
const u32be = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u32le = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u24le = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff]);

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  return Buffer.concat([u32be(data.length), body, u32be(crc32(body))]);
}

/** A PNG of width x height RGB pixels (a gradient), decodable by any viewer. */
export function pngImage(width: number, height: number): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([(x * 255) / Math.max(1, width - 1), (y * 255) / Math.max(1, height - 1), 128], 1 + x * 3);
    rows.push(row);
  }
  // Bit depth 8, color type 2 (RGB), compression 0, filter 0, no interlace.
  const header = Buffer.concat([u32be(width), u32be(height), Buffer.from([8, 2, 0, 0, 0])]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(Buffer.concat(rows))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A GIF of width x height with a two-color palette and an image block of no pixels. */
export function gifImage(width: number, height: number, version: "87a" | "89a" = "89a"): Buffer {
  return Buffer.concat([
    Buffer.from(`GIF${version}`, "latin1"),
    u16le(width),
    u16le(height),
    Buffer.from([0x80, 0, 0]), // global color table of 2 entries
    Buffer.from([0, 0, 0, 255, 255, 255]),
    Buffer.from([0x2c]),
    u16le(0),
    u16le(0),
    u16le(width),
    u16le(height),
    Buffer.from([0]),
    // LZW minimum code size 2; one sub-block holding the clear and end codes.
    Buffer.from([2, 1, 0x2c, 0]),
    Buffer.from([0x3b]),
  ]);
}

function jpegSegment(marker: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xff, marker]), u16be(payload.length + 2), payload]);
}

export interface JpegOptions {
  /** The start-of-frame marker: 0xC0 baseline (default), 0xC2 progressive... */
  sof?: number;
  /** Bytes of APPn segments (EXIF, ICC...) before the frame, in segments of at most 65533. */
  metadataBytes?: number;
  /** Fill bytes (FF) before the frame's marker, which the format allows. */
  fill?: number;
}

/** A JPEG's header up to its scan, as encoders lay it out: JFIF, metadata, tables, frame, Huffman tables, scan. */
export function jpegImage(width: number, height: number, options: JpegOptions = {}): Buffer {
  const metadata: Buffer[] = [];
  for (let left = options.metadataBytes ?? 0; left > 0; left -= 65533) metadata.push(jpegSegment(0xe1, Buffer.alloc(Math.min(left, 65533), 0x45)));
  const frame = Buffer.concat([Buffer.from([8]), u16be(height), u16be(width), Buffer.from([1, 1, 0x11, 0])]);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    jpegSegment(0xe0, Buffer.from("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", "latin1")),
    ...metadata,
    jpegSegment(0xdb, Buffer.alloc(65, 1)),
    // A Huffman table before the frame too: C4 is no frame, though it lies in C0-CF.
    jpegSegment(0xc4, Buffer.alloc(20, 0)),
    Buffer.alloc(options.fill ?? 0, 0xff),
    jpegSegment(options.sof ?? 0xc0, frame),
    jpegSegment(0xda, Buffer.from([1, 1, 0, 0, 0x3f, 0])),
    Buffer.alloc(64, 0x12),
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** A WebP's RIFF header with its first chunk of the given kind, then filler. */
export function webpImage(width: number, height: number, kind: "VP8 " | "VP8L" | "VP8X"): Buffer {
  let chunk: Buffer;
  if (kind === "VP8 ") {
    // Frame tag (3), start code 9D 01 2A, 14-bit width and height (2 bits of scale each above).
    chunk = Buffer.concat([Buffer.from([0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a]), u16le(width), u16le(height), Buffer.alloc(16)]);
  } else if (kind === "VP8L") {
    // Signature 2F, then width-1 and height-1 in 14 bits each, alpha flag, version 0.
    chunk = Buffer.concat([Buffer.from([0x2f]), u32le(((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14)), Buffer.alloc(16)]);
  } else {
    // Flags (alpha), reserved, canvas width-1 and height-1 in 24 bits each.
    chunk = Buffer.concat([Buffer.from([0x10, 0, 0, 0]), u24le(width - 1), u24le(height - 1)]);
  }
  const body = Buffer.concat([Buffer.from("WEBP", "latin1"), Buffer.from(kind, "latin1"), u32le(chunk.length), chunk]);
  return Buffer.concat([Buffer.from("RIFF", "latin1"), u32le(body.length), body]);
}
