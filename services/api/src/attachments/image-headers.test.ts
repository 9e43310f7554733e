import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { gifImage, jpegImage, pngImage, webpImage } from "../../test/images.js";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { ImageProbeStream, probeImage } from "./image-headers.js";

const sized = (contentType: string, width: number, height: number) => ({ kind: "image", contentType, width, height });

describe("probeImage", () => {
  it("reads the type and size of PNG, GIF, JPEG and WebP images (never square, so width and height cannot swap)", () => {
    const cases: [string, Buffer, ReturnType<typeof sized>][] = [
      ["PNG", pngImage(640, 480), sized("image/png", 640, 480)],
      ["PNG 1x3", pngImage(1, 3), sized("image/png", 1, 3)],
      ["GIF89a", gifImage(300, 200), sized("image/gif", 300, 200)],
      ["GIF87a", gifImage(2, 65535, "87a"), sized("image/gif", 2, 65535)],
      ["JPEG baseline", jpegImage(1920, 1080), sized("image/jpeg", 1920, 1080)],
      ["JPEG progressive", jpegImage(1080, 1920, { sof: 0xc2 }), sized("image/jpeg", 1080, 1920)],
      ["JPEG with 200 KB of EXIF/ICC first", jpegImage(4032, 3024, { metadataBytes: 200_000 }), sized("image/jpeg", 4032, 3024)],
      ["JPEG with fill bytes before the frame", jpegImage(33, 17, { fill: 3 }), sized("image/jpeg", 33, 17)],
      ["JPEG lossless frame (C3)", jpegImage(65535, 1, { sof: 0xc3 }), sized("image/jpeg", 65535, 1)],
      ["WebP lossy", webpImage(400, 300, "VP8 "), sized("image/webp", 400, 300)],
      ["WebP lossless", webpImage(16383, 1, "VP8L"), sized("image/webp", 16383, 1)],
      ["WebP lossless 1x16384", webpImage(1, 16384, "VP8L"), sized("image/webp", 1, 16384)],
      ["WebP extended", webpImage(16777216, 3000, "VP8X"), sized("image/webp", 16777216, 3000)],
    ];
    for (const [what, bytes, expected] of cases) assert.deepEqual(probeImage(bytes), expected, what);
  });

  it("says truncated for a prefix, with the type once the signature is whole", () => {
    const png = pngImage(10, 20);
    assert.deepEqual(probeImage(png.subarray(0, 0)), { kind: "truncated" });
    assert.deepEqual(probeImage(png.subarray(0, 4)), { kind: "truncated" });
    assert.deepEqual(probeImage(png.subarray(0, 8)), { kind: "truncated", contentType: "image/png" });
    assert.deepEqual(probeImage(png.subarray(0, 23)), { kind: "truncated", contentType: "image/png" });
    assert.deepEqual(probeImage(png.subarray(0, 24)), sized("image/png", 10, 20));
    assert.deepEqual(probeImage(gifImage(5, 6).subarray(0, 9)), { kind: "truncated", contentType: "image/gif" });
    // "RIFF" alone could still be a WebP.
    assert.deepEqual(probeImage(webpImage(5, 6, "VP8 ").subarray(0, 11)), { kind: "truncated" });
    assert.deepEqual(probeImage(webpImage(5, 6, "VP8 ").subarray(0, 29)), { kind: "truncated", contentType: "image/webp" });
    const jpeg = jpegImage(7, 8, { metadataBytes: 100_000 });
    assert.deepEqual(probeImage(jpeg.subarray(0, 70_000)), { kind: "truncated", contentType: "image/jpeg" });
  });

  it("answers every prefix of every image without throwing: truncated, then the image", () => {
    const images = [pngImage(3, 2), gifImage(3, 2), jpegImage(3, 2, { metadataBytes: 70_000, fill: 2 }), webpImage(3, 2, "VP8 "), webpImage(3, 2, "VP8L"), webpImage(3, 2, "VP8X")];
    for (const image of images) {
      const full = probeImage(image);
      assert.equal(full.kind, "image");
      let sawImage = false;
      for (let length = 0; length <= image.length; length += length < 64 ? 1 : 997) {
        const probe = probeImage(image.subarray(0, length));
        if (probe.kind === "image") {
          sawImage = true;
          assert.deepEqual(probe, full, `a prefix of ${length} bytes`);
        } else {
          assert.equal(probe.kind, "truncated", `a prefix of ${length} bytes`);
          assert.ok(!sawImage, "once sized, longer prefixes stay sized");
        }
      }
    }
  });

  it("sizes an image of a known type with a broken header as 0 x 0", () => {
    const png = pngImage(3, 2);
    png.write("XXXX", 12, "latin1");
    assert.deepEqual(probeImage(png), sized("image/png", 0, 0));
    assert.deepEqual(probeImage(pngImage(0, 5)), sized("image/png", 0, 0));
    // Scan data before any frame.
    assert.deepEqual(probeImage(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6])), sized("image/jpeg", 0, 0));
    // A segment length below 2.
    assert.deepEqual(probeImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0, 0, 0, 0])), sized("image/jpeg", 0, 0));
    // VP8 without its start code, an unknown first chunk.
    const lossy = webpImage(3, 2, "VP8 ");
    lossy[23] = 0;
    assert.deepEqual(probeImage(lossy), sized("image/webp", 0, 0));
    const other = webpImage(3, 2, "VP8X");
    other.write("ALPH", 12, "latin1");
    assert.deepEqual(probeImage(other), sized("image/webp", 0, 0));
  });

  it("tells other files apart", () => {
    const others = [
      Buffer.from("hello, world\n"),
      Buffer.from("%PDF-1.7\n"),
      Buffer.from("BM6\0\0\0\0\0\0\x006\0\0\0", "latin1"),
      Buffer.from("RIFF\x24\0\0\0WAVEfmt ", "latin1"),
      Buffer.from("GIF88a\x01\0\x01\0", "latin1"),
      Buffer.from("\x89PNX\r\n\x1a\n", "latin1"),
      Buffer.from([0xff, 0xd8, 0x00]),
    ];
    for (const bytes of others) assert.deepEqual(probeImage(bytes), { kind: "none" }, JSON.stringify(bytes.toString("latin1")));
  });

  it("never throws on random bytes, alone or after a signature", () => {
    const signatures = [Buffer.alloc(0), pngImage(1, 1).subarray(0, 8), Buffer.from([0xff, 0xd8, 0xff]), Buffer.from("GIF89a"), Buffer.from("RIFF\0\0\0\0WEBP")];
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.concat([signatures[i % signatures.length], randomBytes(i % 97)]);
      const probe = probeImage(bytes);
      assert.ok(["image", "truncated", "none"].includes(probe.kind));
      if (probe.kind === "image") assert.ok(probe.width >= 0 && probe.height >= 0);
    }
  });
});

describe("ImageProbeStream", () => {
  /** `bytes` through a probe in chunks of `chunkSize`: what came out, the signature, the result. */
  async function stream(bytes: Buffer, chunkSize: number) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
    const probe = new ImageProbeStream();
    const output = buffer(Readable.from(chunks).pipe(probe));
    const signature = await probe.signature;
    return { output: await output, signature, result: probe.result() };
  }

  it("passes the bytes through and sizes images whatever the chunking", async () => {
    const cases: [Buffer, object][] = [
      [pngImage(40, 30), { contentType: "image/png", width: 40, height: 30 }],
      [gifImage(7, 9), { contentType: "image/gif", width: 7, height: 9 }],
      [jpegImage(800, 600, { metadataBytes: 300_000 }), { contentType: "image/jpeg", width: 800, height: 600 }],
      [webpImage(5, 4, "VP8X"), { contentType: "image/webp", width: 5, height: 4 }],
    ];
    for (const [bytes, expected] of cases) {
      for (const chunkSize of [1, 7, 1000, 65536]) {
        if (chunkSize === 1 && bytes.length > 10_000) continue;
        const { output, signature, result } = await stream(bytes, chunkSize);
        assert.ok(output.equals(bytes), "the bytes pass unchanged");
        assert.equal(signature, (expected as { contentType: string }).contentType);
        assert.deepEqual(result, expected, `chunks of ${chunkSize}`);
      }
    }
  });

  it("settles the signature from the first bytes, before the rest has passed", async () => {
    const probe = new ImageProbeStream();
    probe.write(jpegImage(10, 10, { metadataBytes: 500_000 }).subarray(0, 100));
    assert.equal(await probe.signature, "image/jpeg");
    const other = new ImageProbeStream();
    other.write(Buffer.from("just some text, longer than any signature"));
    assert.equal(await other.signature, undefined);
    probe.destroy();
    other.destroy();
  });

  it("gives up on a size beyond the first MiB, and knows files that are no images", async () => {
    const far = await stream(jpegImage(10, 20, { metadataBytes: ImageProbeStream.MAX_PREFIX_BYTES + 1000 }), 65536);
    assert.equal(far.signature, "image/jpeg");
    assert.deepEqual(far.result, { contentType: "image/jpeg", width: 0, height: 0 });
    const text = await stream(Buffer.from("a".repeat(100_000)), 4096);
    assert.equal(text.signature, undefined);
    assert.deepEqual(text.result, { contentType: undefined, width: 0, height: 0 });
    const empty = await stream(Buffer.alloc(0), 1);
    assert.equal(empty.signature, undefined);
    assert.equal(empty.output.length, 0);
  });

  it("settles the signature when the upload breaks off", async () => {
    const probe = new ImageProbeStream();
    probe.write(Buffer.from([0x89, 0x50]));
    probe.destroy(new Error("aborted"));
    probe.on("error", () => {});
    assert.equal(await probe.signature, undefined);
  });
});
