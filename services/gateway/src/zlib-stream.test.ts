import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { constants, createInflate } from "node:zlib";
import { ZLIB_SUFFIX, ZlibStream } from "./zlib-stream.js";
import { dispatchFrame, isDispatchName } from "./frames.js";

/** A client's side of zlib-stream: one inflater for the connection, a message per Z_SYNC_FLUSH. */
function clientInflater() {
  const inflate = createInflate({ chunkSize: 64 * 1024 });
  let chunks: Buffer[] = [];
  inflate.on("data", (c: Buffer) => chunks.push(c));
  return (compressed: Buffer) =>
    new Promise<string>((resolve) => {
      inflate.write(compressed);
      inflate.flush(constants.Z_SYNC_FLUSH, () => {
        const out = Buffer.concat(chunks).toString();
        chunks = [];
        resolve(out);
      });
    });
}

test("every message ends in 00 00 FF FF and inflates with the context of those before it", async () => {
  const stream = new ZlibStream();
  const inflate = clientInflater();
  const messages = [
    JSON.stringify({ op: 10, d: { heartbeat_interval: 41250 } }),
    JSON.stringify({ op: 0, t: "READY", s: 1, d: { big: randomBytes(100_000).toString("base64") } }),
    JSON.stringify({ op: 11 }),
    JSON.stringify({ op: 0, t: "MESSAGE_CREATE", s: 2, d: { content: "héllo ✓" } }),
    JSON.stringify({ op: 0, t: "MESSAGE_CREATE", s: 3, d: { content: "héllo ✓" } }),
  ];
  const compressed = await Promise.all(messages.map((m) => new Promise<Buffer>((resolve) => stream.compress(Buffer.from(m), resolve))));
  for (const [i, c] of compressed.entries()) {
    assert.deepEqual(c.subarray(-4), ZLIB_SUFFIX, `message ${i}`);
    assert.equal(await inflate(c), messages[i]);
  }
  // The shared context makes a repeated message cheap.
  assert.ok(compressed[4].length < compressed[3].length);
  stream.close();
});

test("dispatch frames wrap the producer's bytes with the session's seq", () => {
  const data = Buffer.from('{"content":"hi","id":"1"}');
  const frame = dispatchFrame("MESSAGE_CREATE", 17, data);
  assert.deepEqual(JSON.parse(frame.toString()), { op: 0, t: "MESSAGE_CREATE", s: 17, d: { content: "hi", id: "1" } });
  assert.ok(isDispatchName("MESSAGE_REACTION_ADD"));
  assert.ok(!isDispatchName('X","s":1'));
  assert.ok(!isDispatchName("message_create"));
});
