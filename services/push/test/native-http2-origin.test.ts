// The native HTTP/2 client (services/push/native, through NativeHttp2Origin) against a real
// node:http2 server: answers reach the request they belong to, connections that end are
// replaced, deadlines hold, and bad input is refused before it reaches the wire.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2, { type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";
import net, { type AddressInfo } from "node:net";
import { NativeHttp2Origin } from "../src/native-http2-origin.js";

interface Server {
  url: string;
  sessions: ServerHttp2Session[];
  /** Streams the server holds without answering (paths under /hold). */
  held: ServerHttp2Stream[];
  server: Http2Server;
}

async function startServer(): Promise<Server> {
  const sessions: ServerHttp2Session[] = [];
  const held: ServerHttp2Stream[] = [];
  const server = http2.createServer();
  server.on("session", (session) => sessions.push(session));
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const path = String(headers[":path"]);
      if (path.startsWith("/hold")) {
        held.push(stream);
        return;
      }
      const status = Number(/^\/status\/(\d+)/.exec(path)?.[1] ?? 200);
      stream.respond({ ":status": status, "content-type": "application/json", "retry-after": "7", "x-echo": String(headers["x-echo"] ?? "") });
      stream.end(JSON.stringify({ path, method: headers[":method"], body: Buffer.concat(chunks).toString("utf8"), auth: headers.authorization }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sessions, held, server };
}

describe("native HTTP/2 client", () => {
  let s: Server;
  before(async () => (s = await startServer()));
  after(async () => {
    for (const session of s.sessions) session.destroy();
    await new Promise((resolve) => s.server.close(resolve));
  });

  test("2,000 requests at once on one connection: each gets its own status, headers and body", async () => {
    const before = s.sessions.length;
    const origin = new NativeHttp2Origin(s.url, { timeoutMs: 10_000 });
    const statuses = [200, 404, 429, 503];
    const answers = await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        origin.request(
          { ":method": "POST", ":path": `/status/${statuses[i % 4]}/n${i}`, authorization: `Bearer t${i}`, "x-echo": `e${i}`, "content-type": "application/json" },
          JSON.stringify({ n: i, text: "héllo ☃ \u0000 ok" }),
        ),
      ),
    );
    answers.forEach((answer, i) => {
      assert.equal(answer.status, statuses[i % 4]);
      assert.equal(answer.headers["x-echo"], `e${i}`);
      assert.equal(answer.headers["retry-after"], "7");
      const echoed = JSON.parse(answer.body) as { path: string; method: string; body: string; auth: string };
      assert.deepEqual(echoed, { path: `/status/${statuses[i % 4]}/n${i}`, method: "POST", body: JSON.stringify({ n: i, text: "héllo ☃ \u0000 ok" }), auth: `Bearer t${i}` });
    });
    assert.equal(s.sessions.length - before, 1, "one connection for all of them");
    origin.close();
  });

  test("a request without a body (GET)", async () => {
    const origin = new NativeHttp2Origin(s.url, { timeoutMs: 5000 });
    const answer = await origin.request({ ":method": "GET", ":path": "/status/200/get" });
    assert.deepEqual(JSON.parse(answer.body), { path: "/status/200/get", method: "GET", body: "" });
    origin.close();
  });

  test("a connection the server drops fails the requests on it; the next request connects again", async () => {
    const origin = new NativeHttp2Origin(s.url, { timeoutMs: 10_000 });
    await origin.request({ ":method": "GET", ":path": "/warm-up" });
    const heldBefore = s.held.length;
    const doomed = [origin.request({ ":method": "POST", ":path": "/hold/1" }, "{}"), origin.request({ ":method": "POST", ":path": "/hold/2" }, "{}")];
    while (s.held.length < heldBefore + 2) await new Promise((r) => setTimeout(r, 5));
    const sessionsBefore = s.sessions.length;
    s.held[heldBefore].session!.destroy();
    for (const request of doomed) await assert.rejects(request);
    const answer = await origin.request({ ":method": "GET", ":path": "/after" });
    assert.equal(answer.status, 200);
    assert.equal(s.sessions.length, sessionsBefore + 1, "a new connection");
    origin.close();
  });

  test("a GOAWAY makes the next request open a new connection", async () => {
    const origin = new NativeHttp2Origin(s.url, { timeoutMs: 10_000 });
    await origin.request({ ":method": "GET", ":path": "/first" });
    const session = s.sessions[s.sessions.length - 1];
    const sessionsBefore = s.sessions.length;
    session.goaway();
    await new Promise((r) => setTimeout(r, 50));
    const answer = await origin.request({ ":method": "GET", ":path": "/second" });
    assert.equal(answer.status, 200);
    assert.equal(s.sessions.length, sessionsBefore + 1);
    origin.close();
  });

  test("a request the server never answers fails at its deadline; the others are answered", async () => {
    const origin = new NativeHttp2Origin(s.url, { timeoutMs: 300 });
    const started = performance.now();
    const [held, answered] = await Promise.allSettled([origin.request({ ":method": "POST", ":path": "/hold/deadline" }, "{}"), origin.request({ ":method": "GET", ":path": "/fine" })]);
    assert.equal(held.status, "rejected");
    assert.match(String((held as PromiseRejectedResult).reason), /no answer from 127\.0\.0\.1:\d+ within 300 ms/);
    assert.ok(performance.now() - started >= 290);
    assert.equal(answered.status, "fulfilled");
    origin.close();
  });

  test("bad input is refused, naming what is wrong; an unreachable origin fails the request", async () => {
    const origin = new NativeHttp2Origin(s.url, { timeoutMs: 5000 });
    await assert.rejects(origin.request({ ":method": "GET", ":path": "/", "x-bad": "a\r\nb" }), /header x-bad/);
    await assert.rejects(origin.request({ ":method": "POST", ":path": "/" }, "a\x01b"), /body/);
    assert.throws(() => new NativeHttp2Origin("ftp://127.0.0.1:1", { timeoutMs: 100 }), /http or https/);
    origin.close();
    const closedPort = new NativeHttp2Origin("http://127.0.0.1:1", { timeoutMs: 2000 });
    await assert.rejects(closedPort.request({ ":method": "GET", ":path": "/" }), /connect to 127\.0\.0\.1:1/);
    closedPort.close();
  });

  test("a server that never completes the TLS handshake fails a whole batch at its one deadline, not one deadline after another", async () => {
    // It reads (so it sees the client's close) and never writes.
    const silent = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const origin = new NativeHttp2Origin(`https://127.0.0.1:${(silent.address() as AddressInfo).port}`, { timeoutMs: 300 });
    const started = performance.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => origin.request({ ":method": "POST", ":path": `/n${i}` }, "{}")));
    const elapsed = performance.now() - started;
    assert.ok(outcomes.every((o) => o.status === "rejected" && /within 300 ms/.test(String(o.reason))), JSON.stringify(outcomes.map((o) => o.status === "rejected" && String(o.reason))));
    assert.ok(elapsed < 2000, `all 20 failed after ${Math.round(elapsed)} ms (20 deadlines in a row would be 6,000)`);
    origin.close();
    // Closes only once the client has dropped the connection it gave up on.
    await new Promise((resolve) => silent.close(resolve));
  });
});
