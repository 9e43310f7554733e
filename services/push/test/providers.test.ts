// The providers against local HTTP/2 (and, for Web Push, HTTP/1.1) endpoints that check what a
// real provider checks: OAuth and provider tokens, VAPID, and the RFC 8291 encryption; then the
// same over TLS with a certificate made at test time and trusted through CHORUS_PUSH_CA_FILE.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import webpush from "web-push";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@chorus/mesh";
import { apnsError, fcmError, makeTestCertificate, startApnsEndpoint, startFcmEndpoint, startWebPushEndpoint, type ApnsEndpoint, type FcmEndpoint, type Script, type WebPushEndpoint } from "@chorus/testing";
import { ApnsProvider } from "../src/apns-provider.js";
import { FcmProvider } from "../src/fcm-provider.js";
import { ApnsProviderToken, GoogleAccessTokens } from "../src/provider-credentials.js";
import { configureProviders, loadPushConfig } from "../src/push-config.js";
import { PushPipeline, type PushPipelineOptions } from "../src/push-pipeline.js";
import type { Http2ClientKind } from "../src/http2-origin.js";
import { Priority, type ProviderName, type PushRequest } from "../src/push-request.js";
import type { PushResult } from "../src/push-sink.js";
import { WebPushProvider } from "../src/web-push-provider.js";

/** FCM and APNs run over both HTTP/2 clients: the native addon (the default) and node:http2. */
const HTTP2_CLIENTS: Http2ClientKind[] = ["native", "node"];
const fastRetry = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 5000 };

function request(lane: ProviderName, token: string, priority = Priority.High, extra: Partial<PushRequest["target"]> = {}, body = "hello"): PushRequest {
  return {
    lane,
    priority,
    target: { userId: 42n, deviceId: `dev-${token}`, token, ...extra },
    content: { title: "ada in #general", body, data: { channel_id: "10", message_id: "20" }, tag: "c10" },
    acceptedAt: performance.now(),
    ttlSeconds: 3600,
  };
}

/** A pipeline plus what became of each push. */
function pipeline(options: Omit<PushPipelineOptions, "onDone" | "onGone">) {
  const results = new Map<string, PushResult>();
  const gone: string[] = [];
  let waiting: { count: number; resolve: () => void } | undefined;
  const p = new PushPipeline({
    ...options,
    onGone: (r) => gone.push(r.target.token),
    onDone: (r, result) => {
      results.set(r.target.token, result);
      if (waiting && results.size >= waiting.count) waiting.resolve();
    },
  });
  return {
    p,
    results,
    gone,
    done: (count: number) => (results.size >= count ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { count, resolve }))),
  };
}

for (const client of HTTP2_CLIENTS) {
  describe(`FCM HTTP v1 over HTTP/2 (${client} client)`, () => {
    let fcm: FcmEndpoint;
    const script: Script = (token, attempt) => {
      if (token.startsWith("dead")) return fcmError(404, "NOT_FOUND", "UNREGISTERED");
      if (token.startsWith("other-project")) return fcmError(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH");
      if (token.startsWith("quota") && attempt === 1) return { ...fcmError(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), headers: { "retry-after": "1" } };
      if (token.startsWith("flaky") && attempt <= 2) return fcmError(503, "UNAVAILABLE", "UNAVAILABLE");
      if (token.startsWith("down")) return fcmError(500, "INTERNAL", "INTERNAL");
      if (token.startsWith("bad")) return fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT");
      return undefined;
    };
    before(async () => (fcm = await startFcmEndpoint({ script })));
    after(() => fcm.close());

    const providers = () => {
      const tokens = new GoogleAccessTokens(fcm.serviceAccount);
      return { fcm: () => new FcmProvider({ projectId: fcm.serviceAccount.project_id, endpoint: fcm.url, tokens, timeoutMs: 5000, client }) };
    };

    test("delivers with one OAuth token shared by the sinks; dead tokens are reported, 429 and 5xx retried", async () => {
      const { p, results, gone, done } = pipeline({ bufferCapacity: 100, sinksPerProvider: 2, maxInFlightPerSink: 10, providers: providers(), retry: fastRetry });
      const tokens = ["ok-1", "ok-2", "dead-1", "other-project-1", "quota-1", "flaky-1", "down-1", "bad-1"];
      const started = performance.now();
      for (const t of tokens) p.submit(request("fcm", t, t === "ok-2" ? Priority.Low : Priority.High));
      await done(tokens.length);
      await p.stop();
      assert.deepEqual(Object.fromEntries(results), {
        "ok-1": "sent",
        "ok-2": "sent",
        "dead-1": "gone",
        "other-project-1": "gone",
        "quota-1": "sent",
        "flaky-1": "sent",
        "down-1": "retries",
        "bad-1": "rejected",
      });
      assert.deepEqual(gone.sort(), ["dead-1", "other-project-1"]);
      assert.ok(performance.now() - started >= 950, "the 429's Retry-After: 1 was waited for");
      assert.equal(fcm.tokensIssued, 1, "one OAuth exchange for both sinks");
      const flaky = fcm.state.received.filter((r) => r.token === "flaky-1");
      assert.equal(flaky.length, 3);
      assert.equal(fcm.state.received.filter((r) => r.token === "down-1").length, fastRetry.maxAttempts);
      const ok = fcm.state.received.find((r) => r.token === "ok-1")!.message;
      assert.deepEqual(ok.notification, { title: "ada in #general", body: "hello" });
      assert.deepEqual(ok.data, { channel_id: "10", message_id: "20" });
      assert.equal(ok.android?.priority, "HIGH");
      assert.equal(fcm.state.received.find((r) => r.token === "ok-2")!.message.android?.priority, "NORMAL");
      assert.equal(ok.android?.ttl, "3600s");
    });

    test("a refused access token is replaced and the push retried", async () => {
      const { p, results, done } = pipeline({ bufferCapacity: 10, sinksPerProvider: 1, maxInFlightPerSink: 5, providers: providers(), retry: fastRetry });
      p.submit(request("fcm", "ok-before"));
      await done(1);
      const issued = fcm.tokensIssued;
      fcm.revokeTokens();
      p.submit(request("fcm", "ok-after"));
      await done(2);
      await p.stop();
      assert.equal(results.get("ok-after"), "sent");
      assert.equal(fcm.tokensIssued, issued + 1);
    });
  });
}

describe("in flight per sink", () => {
  let fcm: FcmEndpoint;
  before(async () => (fcm = await startFcmEndpoint({ countOnly: true })));
  after(() => fcm.close());

  test("an endpoint that holds its answers never sees more than sinks × limit open, and each answer lets one more in", async () => {
    fcm.state.hold();
    const tokens = new GoogleAccessTokens(fcm.serviceAccount);
    const make = () => new FcmProvider({ projectId: fcm.serviceAccount.project_id, endpoint: fcm.url, tokens, timeoutMs: 30_000 });
    const { p, done } = pipeline({ bufferCapacity: 1000, sinksPerProvider: 3, maxInFlightPerSink: 7, providers: { fcm: make } });
    for (let n = 0; n < 300; n++) p.submit(request("fcm", `t${n}`));
    await fcm.state.openAtLeast(21);
    // Give the sinks every chance to overshoot before checking.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(fcm.state.open, 21);
    assert.equal(p.status().bufferDepth, 300 - 21);
    for (const sink of p.status().sinks) assert.equal(sink.inFlight, 7);
    let released = 0;
    while (released < 300) {
      const n = fcm.state.release(Math.min(5, fcm.state.heldCount));
      released += n;
      await new Promise((r) => setTimeout(r, n === 0 ? 10 : 2));
      assert.ok(fcm.state.open <= 21, `open ${fcm.state.open}`);
    }
    await done(300);
    assert.equal(fcm.state.peakOpen, 21);
    assert.equal(fcm.state.answered, 300);
    for (const sink of p.status().sinks) assert.equal(sink.peakInFlight, 7);
    fcm.state.release();
    await p.stop();
  });

  test("a burst of 100,000 into a 10,000 buffer: low priority is shed, every high one is delivered, the heap stays bounded", async () => {
    fcm.state.release();
    const endpoint = await startFcmEndpoint({ countOnly: true, delayMs: 5 });
    try {
      const tokens = new GoogleAccessTokens(endpoint.serviceAccount);
      const make = () => new FcmProvider({ projectId: endpoint.serviceAccount.project_id, endpoint: endpoint.url, tokens, timeoutMs: 30_000 });
      let high = 0;
      let highSent = 0;
      let finished = 0;
      const p = new PushPipeline({
        bufferCapacity: 10_000,
        sinksPerProvider: 2,
        maxInFlightPerSink: 100,
        providers: { fcm: make },
        onDone: (r, result) => {
          finished++;
          if (r.priority === Priority.High && result === "sent") highSent++;
        },
      });
      const heapBefore = usedHeap();
      let peakHeap = heapBefore;
      for (let n = 0; n < 100_000; n++) {
        const priority = n % 50 === 0 ? Priority.High : Priority.Low;
        if (priority === Priority.High) high++;
        // A distinct 1 KiB body per push: 100 MB if nothing were shed.
        p.submit(request("fcm", `t${n}`, priority, {}, "x".repeat(1016) + String(n).padStart(8, "0")));
        if (n % 10_000 === 9_999) {
          peakHeap = Math.max(peakHeap, usedHeap());
          await new Promise((r) => setImmediate(r));
        }
      }
      peakHeap = Math.max(peakHeap, usedHeap());
      const status = p.status();
      assert.ok(status.bufferDepth <= 10_000);
      const shed = status.shedByPriority;
      assert.equal(shed[Priority.High], 0, "no high-priority push was shed");
      assert.ok(shed[Priority.Low] >= 85_000, `low shed: ${shed[Priority.Low]}`);
      // The buffer gives the most important first: every high-priority push goes out before any low one left.
      while (highSent < high && finished < 100_000 - shed[Priority.Low]) await new Promise((r) => setTimeout(r, 20));
      await p.stop();
      assert.equal(highSent, high);
      assert.ok(endpoint.state.answered >= high);
      const growthMb = (peakHeap - heapBefore) / 2 ** 20;
      assert.ok(growthMb < 40, `heap grew ${growthMb.toFixed(1)} MB during the burst`);
    } finally {
      await endpoint.close();
    }
  });
});

v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Live heap: in use after a full collection. */
function usedHeap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

for (const client of HTTP2_CLIENTS) {
  describe(`APNs over HTTP/2 with a token-based provider JWT (${client} client)`, () => {
    let apns: ApnsEndpoint;
    before(async () => {
      apns = await startApnsEndpoint({
        script: (token, attempt) => {
          if (token.startsWith("dead")) return apnsError(410, "Unregistered");
          if (token.startsWith("bad")) return apnsError(400, "BadDeviceToken");
          if (token.startsWith("beef") && attempt === 1) return { ...apnsError(429, "TooManyRequests"), headers: { "retry-after": "0" } };
          if (token.startsWith("cafe") && attempt === 1) return apnsError(503, "ServiceUnavailable");
          if (token.startsWith("fade")) return apnsError(400, "PayloadTooLarge");
          return undefined;
        },
      });
    });
    after(() => apns.close());

    test("delivers, removes unregistered and bad tokens, retries 429/503, re-signs an expired provider token", async () => {
      const tokens = new ApnsProviderToken(apns.key);
      const make = () => new ApnsProvider({ endpoint: apns.url, topic: apns.topic, tokens, timeoutMs: 5000, client });
      const { p, results, gone, done } = pipeline({ bufferCapacity: 100, sinksPerProvider: 2, maxInFlightPerSink: 10, providers: { apns: make }, retry: fastRetry });
      const deviceTokens = ["a1", "a2", "dead01", "bad01", "beef01", "cafe01", "fade01"];
      for (const t of deviceTokens) p.submit(request("apns", t, t === "a2" ? Priority.Low : Priority.High));
      await done(deviceTokens.length);
      assert.deepEqual(Object.fromEntries(results), { a1: "sent", a2: "sent", dead01: "gone", bad01: "gone", beef01: "sent", cafe01: "sent", fade01: "rejected" });
      assert.deepEqual(gone.sort(), ["bad01", "dead01"]);
      const a1 = apns.state.received.find((r) => r.token === "a1")!;
      assert.deepEqual(a1.payload.aps.alert, { title: "ada in #general", body: "hello" });
      assert.equal(a1.payload.channel_id, "10");
      assert.equal(a1.headers["apns-priority"], "10");
      assert.equal(a1.headers["apns-push-type"], "alert");
      assert.equal(a1.headers["apns-collapse-id"], "c10");
      assert.equal(apns.state.received.find((r) => r.token === "a2")!.headers["apns-priority"], "5");
      assert.equal(apns.providerTokens.size, 1, "one provider JWT for both sinks");
      apns.expireProviderTokens();
      p.submit(request("apns", "a3"));
      await done(deviceTokens.length + 1);
      await p.stop();
      assert.equal(results.get("a3"), "sent");
      assert.equal(apns.providerTokens.size, 2, "a new JWT after ExpiredProviderToken");
    });
  });
}

describe("Web Push (RFC 8030, RFC 8291 payload encryption, VAPID)", () => {
  let push: WebPushEndpoint;
  const vapid = { subject: "mailto:push@chorus.test", ...webpush.generateVAPIDKeys() };
  const busy = new Set<string>();
  before(async () => {
    push = await startWebPushEndpoint({
      vapidPublicKey: vapid.publicKey,
      script: (id, attempt) => (busy.has(id) && attempt === 1 ? { status: 429, headers: { "retry-after": "0" } } : undefined),
    });
  });
  after(() => push.close());

  test("the push service decrypts exactly what was sent; 404/410 remove the subscription; 429 is retried", async () => {
    const make = () => new WebPushProvider({ vapid, connections: 10, timeoutMs: 5000, allowHttp: true });
    const { p, results, gone, done } = pipeline({ bufferCapacity: 100, sinksPerProvider: 2, maxInFlightPerSink: 10, providers: { webpush: make }, retry: fastRetry });
    const live = push.subscribe();
    const low = push.subscribe();
    const ended = push.subscribe();
    const throttled = push.subscribe();
    busy.add(throttled.endpoint.slice(throttled.endpoint.lastIndexOf("/") + 1));
    push.unsubscribe(ended.endpoint);
    const unknown = { endpoint: `${push.url}/push/nobody`, keys: live.keys };
    const bad = { endpoint: `${push.url}/push/x`, keys: { p256dh: "AAAA", auth: live.keys.auth } };
    const subs = [live, low, ended, throttled, unknown, bad];
    for (const s of subs) p.submit(request("webpush", s.endpoint, s === low ? Priority.Low : Priority.High, s.keys));
    await done(subs.length);
    await p.stop();
    assert.equal(results.get(live.endpoint), "sent");
    assert.equal(results.get(low.endpoint), "sent");
    assert.equal(results.get(throttled.endpoint), "sent");
    assert.equal(results.get(ended.endpoint), "gone");
    assert.equal(results.get(unknown.endpoint), "gone");
    assert.equal(results.get(bad.endpoint), "gone");
    assert.deepEqual(gone.sort(), [ended.endpoint, unknown.endpoint, bad.endpoint].sort());
    const [got] = await push.waitFor(live.endpoint);
    assert.deepEqual(JSON.parse(got.plaintext), { title: "ada in #general", body: "hello", tag: "c10", data: { channel_id: "10", message_id: "20" } });
    assert.equal(got.headers.urgency, "high");
    assert.equal(got.headers.topic, "c10");
    assert.equal(got.headers.ttl, "3600");
    assert.equal(got.vapid.aud, push.url);
    assert.equal(got.vapid.sub, vapid.subject);
    assert.equal((await push.waitFor(low.endpoint))[0].headers.urgency, "normal");
  });
});

for (const client of HTTP2_CLIENTS) {
  describe(`over TLS (HTTP/2 for FCM and APNs with the ${client} client, https for Web Push), trusting a test CA through CHORUS_PUSH_CA_FILE`, () => {
    const certificate = makeTestCertificate();
    const vapid = { subject: "mailto:push@chorus.test", ...webpush.generateVAPIDKeys() };
    const caDir = mkdtempSync(join(tmpdir(), "chorus-push-ca-"));
    const caFile = join(caDir, "ca.pem");
    writeFileSync(caFile, certificate.ca);
    let fcm: FcmEndpoint;
    let apns: ApnsEndpoint;
    let push: WebPushEndpoint;
    before(async () => {
      [fcm, apns, push] = await Promise.all([
        startFcmEndpoint({ tls: certificate }),
        startApnsEndpoint({ tls: certificate }),
        startWebPushEndpoint({ tls: certificate, vapidPublicKey: vapid.publicKey }),
      ]);
    });
    after(async () => {
      await Promise.all([fcm.close(), apns.close(), push.close()]);
      rmSync(caDir, { recursive: true, force: true });
    });

    /** The providers as the push service configures them from its environment. */
    const configured = (extra: Record<string, string>) =>
      configureProviders(
        loadPushConfig({
          CHORUS_FCM_SERVICE_ACCOUNT: JSON.stringify(fcm.serviceAccount),
          CHORUS_FCM_ENDPOINT: fcm.url,
          CHORUS_APNS_KEY: apns.key.privateKey,
          CHORUS_APNS_KEY_ID: apns.key.keyId,
          CHORUS_APNS_TEAM_ID: apns.key.teamId,
          CHORUS_APNS_TOPIC: apns.topic,
          CHORUS_APNS_ENDPOINT: apns.url,
          CHORUS_VAPID_SUBJECT: vapid.subject,
          CHORUS_VAPID_PUBLIC_KEY: vapid.publicKey,
          CHORUS_VAPID_PRIVATE_KEY: vapid.privateKey,
          ...extra,
        }),
        "cluster",
        createLogger("test", "silent"),
      ).providers;

    test("each provider delivers to its https endpoint; the Web Push payload is decrypted there", async () => {
      assert.match(fcm.url, /^https:/);
      assert.match(fcm.serviceAccount.token_uri, /^https:/);
      const providers = configured({ CHORUS_PUSH_CA_FILE: caFile });
      const { p, results, done } = pipeline({ bufferCapacity: 100, sinksPerProvider: 1, maxInFlightPerSink: 10, providers, retry: fastRetry });
      const subscription = push.subscribe();
      p.submit(request("fcm", "fcm-tls-1"));
      p.submit(request("apns", "abcdef01"));
      p.submit(request("webpush", subscription.endpoint, Priority.High, subscription.keys));
      await done(3);
      await p.stop();
      assert.deepEqual(Object.fromEntries(results), { "fcm-tls-1": "sent", abcdef01: "sent", [subscription.endpoint]: "sent" });
      assert.equal(fcm.tokensIssued, 1, "the OAuth token came from the https token endpoint");
      assert.equal(fcm.state.received[0].message.token, "fcm-tls-1");
      assert.equal(apns.state.received[0].token, "abcdef01");
      const [got] = await push.waitFor(subscription.endpoint);
      assert.deepEqual(JSON.parse(got.plaintext), { title: "ada in #general", body: "hello", tag: "c10", data: { channel_id: "10", message_id: "20" } });
      assert.equal(got.vapid.aud, push.url);
    });

    test("without the certificate trusted, nothing is sent to the self-signed endpoints", async () => {
      const providers = configured({});
      const webPush = providers.webpush!();
      const subscription = push.subscribe();
      await assert.rejects(webPush.send(request("webpush", subscription.endpoint, Priority.High, subscription.keys)), /self[- ]signed|certificate/i);
      await webPush.close();
      const apnsProvider = providers.apns!();
      await assert.rejects(apnsProvider.send(request("apns", "abcdef02")), /self[- ]signed|certificate/i);
      await apnsProvider.close();
      const fcmProvider = providers.fcm!();
      await assert.rejects(fcmProvider.send(request("fcm", "fcm-tls-2")), /self[- ]signed|certificate/i);
      await fcmProvider.close();
      assert.equal(push.state.received.length, 1, "only the first test's push arrived");
    });
  });
}

describe("sinks' provider connections in worker threads (CHORUS_PUSH_SINK_THREADS)", () => {
  let fcm: FcmEndpoint;
  let push: WebPushEndpoint;
  const vapid = { subject: "mailto:push@chorus.test", ...webpush.generateVAPIDKeys() };
  before(async () => {
    [fcm, push] = await Promise.all([
      startFcmEndpoint({ script: (token, attempt) => (token.startsWith("flaky") && attempt === 1 ? fcmError(503, "UNAVAILABLE") : token.startsWith("dead") ? fcmError(404, "NOT_FOUND", "UNREGISTERED") : undefined) }),
      startWebPushEndpoint({ vapidPublicKey: vapid.publicKey }),
    ]);
  });
  after(async () => Promise.all([fcm.close(), push.close()]));

  const threaded = () =>
    configureProviders(
      loadPushConfig({
        CHORUS_PUSH_SINK_THREADS: "2",
        CHORUS_FCM_SERVICE_ACCOUNT: JSON.stringify(fcm.serviceAccount),
        CHORUS_FCM_ENDPOINT: fcm.url,
        CHORUS_VAPID_SUBJECT: vapid.subject,
        CHORUS_VAPID_PUBLIC_KEY: vapid.publicKey,
        CHORUS_VAPID_PRIVATE_KEY: vapid.privateKey,
        CHORUS_WEB_PUSH_ALLOW_HTTP: "1",
      }),
      "cluster",
      createLogger("test", "silent"),
    );

  test("outcomes come back from the threads: sent, gone, retried; the Web Push payload is decrypted at the push service", async () => {
    const configured = threaded();
    const { p, results, gone, done } = pipeline({ bufferCapacity: 100, sinksPerProvider: 2, maxInFlightPerSink: 10, providers: configured.providers, retry: fastRetry });
    const subscription = push.subscribe();
    for (const t of ["ok-1", "flaky-1", "dead-1"]) p.submit(request("fcm", t));
    p.submit(request("webpush", subscription.endpoint, Priority.Low, subscription.keys));
    await done(4);
    await p.stop();
    await configured.close();
    assert.deepEqual(Object.fromEntries(results), { "ok-1": "sent", "flaky-1": "sent", "dead-1": "gone", [subscription.endpoint]: "sent" });
    assert.deepEqual(gone, ["dead-1"]);
    assert.equal(p.status().sinks.reduce((n, s) => n + s.retried, 0), 1, "the retry was the main thread's sink's");
    const [got] = await push.waitFor(subscription.endpoint);
    assert.deepEqual(JSON.parse(got.plaintext), { title: "ada in #general", body: "hello", tag: "c10", data: { channel_id: "10", message_id: "20" } });
    assert.equal(got.headers.urgency, "normal");
  });

  test("the in-flight limit stays exact: an endpoint that holds its answers sees sinks × limit open, and each answer lets one more in", async () => {
    fcm.state.hold();
    const configured = threaded();
    const { p, done } = pipeline({ bufferCapacity: 1000, sinksPerProvider: 3, maxInFlightPerSink: 7, providers: { fcm: configured.providers.fcm! } });
    for (let n = 0; n < 200; n++) p.submit(request("fcm", `held-${n}`));
    await fcm.state.openAtLeast(21);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(fcm.state.open, 21);
    assert.equal(p.status().bufferDepth, 200 - 21);
    let released = 0;
    while (released < 200) {
      const n = fcm.state.release(Math.min(5, fcm.state.heldCount));
      released += n;
      await new Promise((r) => setTimeout(r, n === 0 ? 10 : 2));
      assert.ok(fcm.state.open <= 21, `open ${fcm.state.open}`);
    }
    await done(200);
    fcm.state.release();
    await p.stop();
    await configured.close();
    for (const sink of p.status().sinks) assert.equal(sink.peakInFlight, 7);
  });
});
