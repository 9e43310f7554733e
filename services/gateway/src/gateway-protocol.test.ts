import { test } from "node:test";
import assert from "node:assert/strict";
import { bareToken, parseIdentify, parsePayload, parseResume, shardOf, validShard } from "./gateway-protocol.js";
import { connectionParams } from "./websocket-server.js";
import { guildChangeOf } from "./deliveries.js";
import { tokenUserId } from "./identity.js";

test("parsePayload accepts gateway payloads and nothing else", () => {
  assert.deepEqual(parsePayload('{"op":1,"d":null}'), { op: 1, d: null });
  for (const bad of ["", "nope", "[]", "null", '{"d":1}', '{"op":"1"}']) assert.equal(parsePayload(bad), undefined, bad);
});

test("parseIdentify checks the fields Discord requires", () => {
  const good = { token: "t", intents: 513, properties: { os: "linux" } };
  assert.deepEqual(parseIdentify(good), good);
  assert.deepEqual(parseIdentify({ ...good, shard: [0, 2], large_threshold: 100 })?.shard, [0, 2]);
  assert.equal(parseIdentify({ ...good, token: "" }), undefined);
  assert.equal(parseIdentify({ ...good, intents: -1 }), undefined);
  assert.equal(parseIdentify({ ...good, intents: "513" }), undefined);
  assert.equal(parseIdentify({ token: "t", intents: 1 }), undefined, "properties are required");
  assert.equal(parseIdentify({ ...good, shard: [0] }), undefined);
  assert.equal(parseIdentify(null), undefined);
});

test("parseResume needs a token, a session id and a seq (or null)", () => {
  assert.deepEqual(parseResume({ token: "t", session_id: "s", seq: 4 }), { token: "t", session_id: "s", seq: 4 });
  assert.deepEqual(parseResume({ token: "t", session_id: "s", seq: null })?.seq, null);
  assert.equal(parseResume({ token: "t", session_id: "", seq: 1 }), undefined);
  assert.equal(parseResume({ token: "t", session_id: "s", seq: -1 }), undefined);
  assert.equal(parseResume({ token: "t", session_id: "s" }), undefined);
});

test("shards: the pair must be in range, and guilds split by Discord's formula", () => {
  assert.ok(validShard([0, 1]));
  assert.ok(validShard([1, 2]));
  assert.ok(!validShard([2, 2]));
  assert.ok(!validShard([-1, 2]));
  assert.ok(!validShard([0, 0]));
  assert.equal(shardOf(41771983423143937n, 1), 0);
  // (id >> 22) % count
  assert.equal(shardOf((7n << 22n) | 123n, 4), 3);
});

test("bareToken drops the REST API's Bot prefix", () => {
  assert.equal(bareToken("Bot abc.def"), "abc.def");
  assert.equal(bareToken("abc.def"), "abc.def");
});

test("tokenUserId reads the user id a Chorus token names", () => {
  const id = 1234567890123456789n;
  const token = `${Buffer.from(id.toString()).toString("base64url")}.${"a".repeat(43)}`;
  assert.equal(tokenUserId(token), id);
  assert.equal(tokenUserId(`${token}x`), undefined);
  assert.equal(tokenUserId(`${Buffer.from("0123").toString("base64url")}.${"a".repeat(43)}`), undefined);
  assert.equal(tokenUserId("garbage"), undefined);
});

test("connectionParams: v=10, JSON, optional zlib-stream", () => {
  assert.deepEqual(connectionParams("/?v=10&encoding=json"), { compress: false });
  assert.deepEqual(connectionParams("/"), { compress: false });
  assert.deepEqual(connectionParams("/?v=10&encoding=json&compress=zlib-stream"), { compress: true });
  assert.equal(connectionParams("/?v=9").refusal?.code, 4012);
  assert.equal(connectionParams("/?encoding=etf").refusal?.code, 4002);
  assert.equal(connectionParams("/?compress=zstd-stream").refusal?.code, 4002);
});

test("guildChangeOf: joins and leaves change the session's guilds, outages do not", () => {
  const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));
  assert.equal(guildChangeOf("GUILD_CREATE", bytes({ id: "42", name: "g" })), "+42");
  assert.equal(guildChangeOf("GUILD_DELETE", bytes({ id: "42" })), "-42");
  assert.equal(guildChangeOf("GUILD_DELETE", bytes({ id: "42", unavailable: true })), "");
  assert.equal(guildChangeOf("MESSAGE_CREATE", bytes({ id: "42" })), "");
  assert.throws(() => guildChangeOf("GUILD_CREATE", bytes({ name: "g" })), /data\.id/);
  assert.throws(() => guildChangeOf("GUILD_CREATE", Buffer.from("{")), /data: Not JSON/);
});
