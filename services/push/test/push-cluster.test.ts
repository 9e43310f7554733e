// Push notifications end to end in cluster mode: storage (Cassandra), guild, api and push as
// their own processes on real etcd, Cassandra and Redis. People register Web Push
// subscriptions at a local RFC 8030 push service through the Discord-style devices route; a
// message mentioning a member with no gateway session reaches that push service, which checks
// VAPID and decrypts the payload (RFC 8291, http_ece). Mutes hold pushes back, a DM is
// pushed, a subscription the push service calls gone (410) is removed, and the Connect
// NotificationService sees the same devices. A member's own "all messages" / "only mentions"
// setting overrides the guild's default both ways; a member with a live gateway session gets
// no push (DM or mention) until the session closes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import webpush from "web-push";
import { connectMesh, createLogger, type MeshConnection } from "@chorus/mesh";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { DeviceKind } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { NotificationService } from "@chorus/contracts/chorus/api/v1/notifications_pb";
import {
  cassandraContactPoints,
  DiscordRest,
  freePort,
  requireCassandra,
  requireEtcd,
  requireRedis,
  startServiceProcess,
  startWebPushEndpoint,
  testNamespace,
  waitFor,
  type ServiceProcess,
  type WebPushEndpoint,
} from "@chorus/testing";
import { PushPeople, pushSettingsTests, withTimeout, type Person, type PushTarget } from "./push-suite.js";

describe("push notifications end to end (cluster mode: storage on Cassandra, guild, api, push; Web Push to a local RFC 8030 service)", () => {
  const vapid = { subject: "mailto:push@chorus.test", ...webpush.generateVAPIDKeys() };
  const processes: ServiceProcess[] = [];
  let pushService: WebPushEndpoint;
  let rest: DiscordRest;
  let httpUrl: string;
  let gatewayUrl: string;
  let mesh: MeshConnection;
  let target: PushTarget;

  before(async () => {
    const endpoints = await requireEtcd();
    await requireCassandra();
    const redisUrl = await requireRedis();
    pushService = await startWebPushEndpoint({ vapidPublicKey: vapid.publicKey });
    const env = {
      CHORUS_ETCD_ENDPOINTS: endpoints.join(","),
      CHORUS_REGISTRY_NAMESPACE: testNamespace(),
      CHORUS_LEASE_TTL_SECONDS: "3",
      CHORUS_STORAGE_BACKEND: "cassandra",
      CHORUS_CASSANDRA_CONTACT_POINTS: cassandraContactPoints().join(","),
      CHORUS_CASSANDRA_KEYSPACE: "chorus_test",
      CHORUS_REDIS_URL: redisUrl,
    };
    processes.push(await startServiceProcess("storage", env));
    processes.push(await startServiceProcess("guild", { ...env, CHORUS_WORKER_ID: "12" }));
    processes.push(
      await startServiceProcess("push", {
        ...env,
        CHORUS_VAPID_SUBJECT: vapid.subject,
        CHORUS_VAPID_PUBLIC_KEY: vapid.publicKey,
        CHORUS_VAPID_PRIVATE_KEY: vapid.privateKey,
        // The local push service speaks plain http on loopback.
        CHORUS_WEB_PUSH_ALLOW_HTTP: "1",
        CHORUS_PUSH_SINKS: "1",
      }),
    );
    const gateway = await startServiceProcess("gateway", { ...env, CHORUS_GATEWAY_PORT: String(await freePort()) });
    processes.push(gateway);
    gatewayUrl = gateway.urls.gateway;
    mesh = await connectMesh({ endpoints, namespace: env.CHORUS_REGISTRY_NAMESPACE, leaseTtlSeconds: 3, logger: createLogger("test", "warn") });
    const api = await startServiceProcess("api", { ...env, CHORUS_HTTP_PORT: String(await freePort()), CHORUS_WORKER_ID: "13" });
    processes.push(api);
    httpUrl = api.urls.http;
    rest = new DiscordRest(httpUrl);
    target = {
      rest,
      httpUrl,
      pushService,
      gatewayUrl,
      online: async (guildId, userId) => {
        const { sessions } = await mesh.clients.client(GuildService, BigInt(guildId)).listOnline({ guildId: BigInt(guildId) });
        return sessions.some((s) => String(s.userId) === userId);
      },
    };
    // The api reaches storage, guild and push through the registry.
    await waitFor("the api seeing storage, guild and push", async () => {
      const health = (await (await fetch(`${httpUrl}/healthz`).catch(() => undefined))?.json().catch(() => undefined)) as { services?: Record<string, { status: string }> } | undefined;
      return ["storage", "guild", "push"].every((s) => health?.services?.[s]?.status === "SERVING") || undefined;
    });
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await mesh?.close();
    await pushService?.close();
  });

  const people = new PushPeople(() => target);
  const register = (label: string) => people.register(label);
  const subscribe = (person: Person) => people.subscribe(person);
  const guildWith = (owner: Person, members: Person[]) => people.guildWith(owner, members);

  it("a message mentioning an offline member reaches their browser's push service, encrypted for it; a muted member gets nothing", async () => {
    const [ada, bob, cy] = [await register("ada"), await register("bob"), await register("cy")];
    const config = await rest.ok("GET", "/users/@me/devices/config", bob.token);
    assert.equal(config.web_push_public_key, vapid.publicKey);
    const bobs = await subscribe(bob);
    const cys = await subscribe(cy);
    const { guildId, channelId } = await guildWith(ada, [bob, cy]);
    // Cy mutes the guild (Discord's user guild settings).
    const settings = await rest.ok("PATCH", `/users/@me/guilds/${guildId}/settings`, cy.token, { muted: true });
    assert.equal(settings.muted, true);

    const first = await rest.ok("POST", `/channels/${channelId}/messages`, ada.token, { content: `hey <@${bob.id}> and <@${cy.id}>, lunch?` });
    const second = await rest.ok("POST", `/channels/${channelId}/messages`, ada.token, { content: `<@${bob.id}> ping` });
    const pushes = await withTimeout(pushService.waitFor(bobs.subscription.endpoint, 2), 20_000, "bob's two pushes");
    const payloads = pushes.map((p) => JSON.parse(p.plaintext) as { title: string; body: string; tag: string; data: Record<string, string> });
    const byMessage = new Map(payloads.map((p) => [p.data.message_id, p]));
    const pushed = byMessage.get(first.id)!;
    assert.ok(pushed, `a push for message ${first.id} in ${JSON.stringify(payloads)}`);
    assert.equal(pushed.title, `${ada.username} (#general)`);
    assert.equal(pushed.body, `hey <@${bob.id}> and <@${cy.id}>, lunch?`);
    assert.deepEqual(pushed.data, { channel_id: channelId, message_id: first.id, author_id: ada.id, guild_id: guildId, reason: "mention" });
    assert.equal(pushed.tag, `c${channelId}`);
    assert.ok(byMessage.has(second.id));
    assert.equal(pushes[0].headers.urgency, "high", "a direct mention is high priority");
    assert.equal(pushes[0].vapid.sub, vapid.subject);
    // Both messages' pushes for bob went out; cy's first one would have been queued with bob's.
    assert.equal(pushService.state.received.filter((r) => cys.subscription.endpoint.endsWith(r.subscription)).length, 0, "the muted member got no push");
  });

  it("a DM to someone with no gateway session is pushed; a subscription the push service calls gone is removed", async () => {
    const [ada, dee] = [await register("ada"), await register("dee")];
    const dees = await subscribe(dee);
    const stale = await subscribe(dee);
    pushService.unsubscribe(stale.subscription.endpoint);
    const dm = await rest.ok("POST", "/users/@me/channels", ada.token, { recipient_id: dee.id });
    const message = await rest.ok("POST", `/channels/${dm.id}/messages`, ada.token, { content: "psst" });
    const [push] = await withTimeout(pushService.waitFor(dees.subscription.endpoint), 20_000, "dee's DM push");
    const payload = JSON.parse(push.plaintext) as { title: string; body: string; data: Record<string, string> };
    assert.equal(payload.title, ada.username);
    assert.equal(payload.body, "psst");
    assert.deepEqual(payload.data, { channel_id: dm.id, message_id: message.id, author_id: ada.id, reason: "direct_message" });
    // The 410 made push delete the stale subscription.
    const left = await waitFor("the gone subscription removed", async () => {
      const devices: { id: string }[] = await rest.ok("GET", "/users/@me/devices", dee.token);
      return devices.length === 1 ? devices : undefined;
    });
    assert.equal(left[0].id, dees.deviceId);
    // What happened shows on the push process's /metrics (its mesh port).
    const pushProcess = processes.find((p) => p.service === "push")!;
    const metrics = await (await fetch(`http://${pushProcess.address}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(metrics)?.[1] ?? NaN);
    assert.ok(value('push_sent_total{provider="webpush",priority="high"}') >= 3, metrics);
    assert.ok(value('push_devices_removed_total{provider="webpush"}') >= 1);
    assert.ok(value('push_failed_total{provider="webpush",priority="high",reason="gone"}') >= 1);
    assert.ok(value('push_notify_recipients_total{result="muted"}') >= 1);
    assert.equal(value("push_buffer_capacity"), 10_000);
    assert.match(metrics, /push_latency_seconds_count\{provider="webpush",priority="high"\} [1-9]/);
  });

  it("the Connect NotificationService registers, lists and deletes the same devices", async () => {
    const eve = await register("eve");
    const client = createClient(NotificationService, createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1" }));
    const headers = { authorization: `Bearer ${eve.token}` };
    assert.equal((await client.getPushConfig({}, { headers })).webPushPublicKey, vapid.publicKey);
    const token = "f".repeat(64);
    const { device } = await client.registerDevice({ kind: DeviceKind.APNS, token, name: "iPhone" }, { headers });
    const again = await client.registerDevice({ kind: DeviceKind.APNS, token, name: "iPhone" }, { headers });
    assert.equal(again.device!.id, device!.id, "the same token is the same device");
    const listed: { id: string; type: string; token: string }[] = await rest.ok("GET", "/users/@me/devices", eve.token);
    assert.deepEqual(listed.map((d) => [d.id, d.type, d.token]), [[device!.id, "apns", token]]);
    await client.deleteDevice({ deviceId: device!.id }, { headers });
    assert.deepEqual((await client.listDevices({}, { headers })).devices, []);
    const bad = await rest.call("POST", "/users/@me/devices", eve.token, { type: "webpush", endpoint: "https://push.example/x", keys: { p256dh: "AAAA", auth: "AAAA" } });
    assert.equal(bad.status, 400);
    assert.ok(JSON.stringify(bad.body).includes("p256dh"), JSON.stringify(bad.body));
  });

  pushSettingsTests(() => target);

  it("with the push service gone, messages mentioning offline members are still accepted and stored", async () => {
    const [ada, bob] = [await register("ada"), await register("bob")];
    await subscribe(bob);
    const { channelId } = await guildWith(ada, [bob]);
    const push = processes.find((p) => p.service === "push")!;
    await push.kill("SIGKILL");
    // Its registration lingers until the lease runs out (3 s): the owner's Notify then fails, unawaited.
    for (const content of [`<@${bob.id}> are you there?`, `@everyone hello`]) {
      const posted = await rest.ok("POST", `/channels/${channelId}/messages`, ada.token, { content });
      const stored = await rest.ok("GET", `/channels/${channelId}/messages/${posted.id}`, ada.token);
      assert.equal(stored.content, content);
    }
  });
});

