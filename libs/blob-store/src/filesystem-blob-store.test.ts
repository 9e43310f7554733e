import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { BlobTooLargeError, InvalidBlobKeyError, checkBlobKey } from "./blob-store.js";
import { FilesystemBlobStore } from "./filesystem-blob-store.js";

describe("checkBlobKey", () => {
  it("takes segments of letters, digits, _ and - joined by /", () => {
    for (const key of ["a", "attachments/123/456", "emoji_x/A-b_9", Array(8).fill("s").join("/"), "x".repeat(128)]) assert.equal(checkBlobKey(key), key);
  });

  it("refuses anything that could leave the directory or meet the store's own files", () => {
    for (const key of ["", "/a", "a/", "a//b", "..", "a/../b", "a/./b", ".tmp", "a.blob", "a b", "a\\b", "ä", "x".repeat(129), Array(9).fill("s").join("/")]) {
      assert.throws(() => checkBlobKey(key), InvalidBlobKeyError, JSON.stringify(key));
    }
  });
});

describe("FilesystemBlobStore", () => {
  let directory: string;
  let store: FilesystemBlobStore;

  before(() => {
    directory = mkdtempSync(join(tmpdir(), "chorus-blobs-"));
    store = new FilesystemBlobStore(directory);
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  const read = async (key: string) => {
    const blob = await store.get(key);
    return blob && { contentType: blob.contentType, size: blob.size, bytes: await buffer(blob.body) };
  };
  /** Files left in the temporary folder (failed or finished puts must leave none). */
  const leftovers = () => readdirSync(join(directory, ".tmp"));

  it("stores bytes, a stream or an async iterable under a key with its content type, and reads them back", async () => {
    const bytes = randomBytes(100_000);
    assert.deepEqual(await store.put("attachments/1/2", bytes, { contentType: "image/png" }), { key: "attachments/1/2", contentType: "image/png", size: 100_000 });
    assert.deepEqual(await read("attachments/1/2"), { contentType: "image/png", size: 100_000, bytes });
    assert.deepEqual(await store.head("attachments/1/2"), { key: "attachments/1/2", contentType: "image/png", size: 100_000 });

    const chunks = [randomBytes(70_000), randomBytes(1), randomBytes(65_536)];
    await store.put("attachments/1/3", Readable.from(chunks), { contentType: "application/octet-stream" });
    assert.deepEqual((await read("attachments/1/3"))?.bytes, Buffer.concat(chunks));
    await store.put("attachments/1/4", (async function* () {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array([3]);
    })(), { contentType: "text/plain" });
    assert.deepEqual(await read("attachments/1/4"), { contentType: "text/plain", size: 3, bytes: Buffer.from([1, 2, 3]) });

    // A Uint8Array view is stored as the bytes it shows, not its whole buffer.
    const backing = new TextEncoder().encode("xxhelloxx");
    const view = new Uint8Array(backing.buffer, 2, 5);
    await store.put("view", view, { contentType: "text/plain" });
    assert.equal((await read("view"))?.bytes.toString(), "hello");
    assert.deepEqual(leftovers(), []);
  });

  it("stores an empty blob", async () => {
    await store.put("empty", Buffer.alloc(0), { contentType: "text/plain" });
    assert.deepEqual(await read("empty"), { contentType: "text/plain", size: 0, bytes: Buffer.alloc(0) });
  });

  it("answers undefined for a key never stored, false when deleting one", async () => {
    assert.equal(await store.get("nothing/here"), undefined);
    assert.equal(await store.head("nothing/here"), undefined);
    assert.equal(await store.delete("nothing/here"), false);
  });

  it("replaces a blob and deletes it", async () => {
    await store.put("k", Buffer.from("first"), { contentType: "text/plain" });
    await store.put("k", Buffer.from("second one"), { contentType: "text/markdown" });
    assert.deepEqual(await read("k"), { contentType: "text/markdown", size: 10, bytes: Buffer.from("second one") });
    assert.equal(await store.delete("k"), true);
    assert.equal(await store.get("k"), undefined);
    assert.equal(await store.delete("k"), false);
  });

  it("keeps a/b and a/b/c apart", async () => {
    await store.put("a/b", Buffer.from("outer"), { contentType: "text/plain" });
    await store.put("a/b/c", Buffer.from("inner"), { contentType: "text/plain" });
    assert.equal((await read("a/b"))?.bytes.toString(), "outer");
    assert.equal((await read("a/b/c"))?.bytes.toString(), "inner");
  });

  it("refuses a body past maxBytes and leaves the key as it was, with no temporary file", async () => {
    await store.put("limited", Buffer.from("old"), { contentType: "text/plain" });
    const body = Readable.from([randomBytes(600), randomBytes(600)]);
    await assert.rejects(store.put("limited", body, { contentType: "text/plain", maxBytes: 1000 }), (err: unknown) => {
      assert.ok(err instanceof BlobTooLargeError, String(err));
      assert.equal(err.maxBytes, 1000);
      return true;
    });
    assert.equal((await read("limited"))?.bytes.toString(), "old");
    // Exactly maxBytes is fine.
    await store.put("limited", randomBytes(1000), { contentType: "text/plain", maxBytes: 1000 });
    assert.equal((await store.head("limited"))?.size, 1000);
    assert.deepEqual(leftovers(), []);
  });

  it("stores nothing when the source fails midway", async () => {
    const failing = new Readable({
      read() {
        this.push(randomBytes(1000));
        this.destroy(new Error("connection reset"));
      },
    });
    await assert.rejects(store.put("broken", failing, { contentType: "text/plain" }), /connection reset/);
    assert.equal(await store.get("broken"), undefined);
    assert.deepEqual(leftovers(), []);
  });

  it("refuses invalid keys on every operation", async () => {
    await assert.rejects(store.put("../escape", Buffer.from("x"), { contentType: "text/plain" }), InvalidBlobKeyError);
    await assert.rejects(store.get("a/../../etc/passwd"), InvalidBlobKeyError);
    await assert.rejects(store.head("a.json"), InvalidBlobKeyError);
    await assert.rejects(store.delete(".tmp"), InvalidBlobKeyError);
  });

  it("shares a directory between stores (api nodes on one machine), also for concurrent puts of one key", async () => {
    const other = new FilesystemBlobStore(directory);
    await store.put("shared/1", Buffer.from("from the first"), { contentType: "text/plain" });
    assert.equal((await other.get("shared/1").then((b) => b && buffer(b.body)))?.toString(), "from the first");

    const versions = Array.from({ length: 10 }, (_, i) => randomBytes(50_000 + i));
    await Promise.all(versions.map((bytes, i) => (i % 2 ? store : other).put("shared/2", bytes, { contentType: `test/v${i}` })));
    const last = await read("shared/2");
    assert.ok(last, "one of the puts won");
    // A whole version, never a mix: its bytes are one of the versions put.
    assert.ok(versions.some((v) => v.equals(last.bytes)), "the stored bytes are one whole version");
    assert.equal(last.size, last.bytes.length);
    assert.equal(await other.delete("shared/2"), true);
    assert.equal(await store.get("shared/2"), undefined);
    assert.deepEqual(leftovers(), []);
  });
});
