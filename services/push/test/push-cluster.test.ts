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
import WebSocket from "ws";
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
  type WebPushSubscription,
} from "@chorus/testing";

interface Person {
  id: string;
  token: string;
  username: string;
}

const run = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let serial = 0;

describe("push notifications end to end (cluster mode: storage on Cassandra, guild, api, push; Web Push to a local RFC 8030 service)", () => {
  const vapid = { subject: "mailto:push@chorus.test", ...webpush.generateVAPIDKeys() };
  const processes: ServiceProcess[] = [];
  let pushService: WebPushEndpoint;
  let rest: DiscordRest;
  let httpUrl: string;
  let gatewayUrl: string;
  let mesh: MeshConnection;

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

  async function register(label: string): Promise<Person> {
    const username = `${label}_${run}_${serial++}`.slice(0, 32);
    const { token } = await rest.ok("POST", "/auth/register", undefined, { username, email: `${username}@example.com`, password: "correct horse battery" });
    const me = await rest.ok("GET", "/users/@me", token);
    return { id: me.id, token, username };
  }

  async function subscribe(person: Person): Promise<{ subscription: WebPushSubscription; deviceId: string }> {
    const subscription = pushService.subscribe();
    const device = await rest.ok("POST", "/users/@me/devices", person.token, { type: "webpush", ...subscription, name: "Firefox" });
    assert.equal(device.type, "webpush");
    assert.equal(device.endpoint, subscription.endpoint);
    assert.equal(device.keys, undefined, "the keys are never echoed");
    return { subscription, deviceId: device.id };
  }

  async function guildWith(owner: Person, members: Person[], defaultMessageNotifications?: number): Promise<{ guildId: string; channelId: string }> {
    const guild = await rest.ok("POST", "/guilds", owner.token, { name: `push ${run}` });
    if (defaultMessageNotifications !== undefined) {
      const modified = await rest.ok("PATCH", `/guilds/${guild.id}`, owner.token, { default_message_notifications: defaultMessageNotifications });
      assert.equal(modified.default_message_notifications, defaultMessageNotifications);
    }
    const channels: { id: string; name: string; type: number }[] = await rest.ok("GET", `/guilds/${guild.id}/channels`, owner.token);
    const general = channels.find((c) => c.type === 0 && c.name === "general")!;
    const invite = await rest.ok("POST", `/channels/${general.id}/invites`, owner.token, {});
    for (const m of members) await rest.ok("POST", `/invites/${invite.code}`, m.token);
    return { guildId: guild.id, channelId: general.id };
  }

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

  /** Message ids of the pushes a subscription received so far. */
  const pushedIds = (subscription: WebPushSubscription) =>
    pushService.state.received.filter((r) => subscription.endpoint.endsWith(r.subscription)).map((r) => (JSON.parse(r.plaintext) as { data: { message_id: string } }).data.message_id);
  const pushOf = async (subscription: WebPushSubscription, count: number, what: string) =>
    (await withTimeout(pushService.waitFor(subscription.endpoint, count), 20_000, what)).map((p) => JSON.parse(p.plaintext) as { data: Record<string, string> });

  it("a member's own setting overrides the guild's default both ways: all messages in an only-mentions guild, only mentions in an all-messages guild", async () => {
    const [ada, bob, cy, dee] = [await register("ada"), await register("bob"), await register("cy"), await register("dee")];
    const [bobs, cys, dees] = [await subscribe(bob), await subscribe(cy), await subscribe(dee)];
    const quiet = await guildWith(ada, [bob, cy, dee], 1);
    const loud = await guildWith(ada, [bob, cy, dee], 0);
    // Quiet guild: Bob wants everything; Dee wants nothing but everything of #general; Cy keeps the default.
    assert.equal((await rest.ok("PATCH", `/users/@me/guilds/${quiet.guildId}/settings`, bob.token, { message_notifications: 0 })).message_notifications, 0);
    await rest.ok("PATCH", `/users/@me/guilds/${quiet.guildId}/settings`, dee.token, { message_notifications: 2, channel_overrides: { [quiet.channelId]: { message_notifications: 0 } } });
    // Loud guild: Bob wants only mentions, Dee nothing; Cy keeps the default.
    await rest.ok("PATCH", `/users/@me/guilds/${loud.guildId}/settings`, bob.token, { message_notifications: 1 });
    await rest.ok("PATCH", `/users/@me/guilds/${loud.guildId}/settings`, dee.token, { message_notifications: 2 });

    const inQuiet = await rest.ok("POST", `/channels/${quiet.channelId}/messages`, ada.token, { content: "plain news" });
    const inLoud = await rest.ok("POST", `/channels/${loud.channelId}/messages`, ada.token, { content: "more plain news" });
    const [bobsPush] = await pushOf(bobs.subscription, 1, "bob's all-messages push");
    assert.deepEqual(bobsPush.data, { channel_id: quiet.channelId, message_id: inQuiet.id, author_id: ada.id, guild_id: quiet.guildId, reason: "all_messages" });
    const [deesPush] = await pushOf(dees.subscription, 1, "dee's push through her channel override");
    assert.equal(deesPush.data.message_id, inQuiet.id);
    const [cysPush] = await pushOf(cys.subscription, 1, "cy's push by the loud guild's default");
    assert.equal(cysPush.data.message_id, inLoud.id);
    // Later mentions of each arrive after anything the plain messages could have caused.
    const mention = await rest.ok("POST", `/channels/${loud.channelId}/messages`, ada.token, { content: `<@${bob.id}> <@${cy.id}> <@${dee.id}> ok?` });
    await pushOf(bobs.subscription, 2, "bob's mention");
    await pushOf(cys.subscription, 2, "cy's mention");
    assert.deepEqual(pushedIds(bobs.subscription), [inQuiet.id, mention.id], "bob: all of the quiet guild, only mentions of the loud one");
    assert.deepEqual(pushedIds(cys.subscription), [inLoud.id, mention.id], "cy: the guilds' defaults");
    // "Nothing" silences Dee's mentions in the loud guild too.
    const sentinel = await rest.ok("POST", `/channels/${quiet.channelId}/messages`, ada.token, { content: `<@${dee.id}> last one` });
    await pushOf(dees.subscription, 2, "dee's push in #general of the quiet guild");
    assert.deepEqual(pushedIds(dees.subscription), [inQuiet.id, sentinel.id], "dee: only #general of the quiet guild");
    // Settings of a guild one is not in are refused (its owner holds members' settings).
    const outsider = await register("out");
    const refused = await rest.call("PATCH", `/users/@me/guilds/${quiet.guildId}/settings`, outsider.token, { message_notifications: 0 });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((refused.body as { code: number }).code, 50001);
  });

  it("a member with a live gateway session gets no push for a mention or a DM; once the session is closed, they do", async () => {
    const [ada, eve] = [await register("ada"), await register("eve")];
    const eves = await subscribe(eve);
    const { guildId, channelId } = await guildWith(ada, [eve], 1);
    const dm = await rest.ok("POST", "/users/@me/channels", ada.token, { recipient_id: eve.id });
    const online = () => mesh.clients.client(GuildService, BigInt(guildId)).listOnline({ guildId: BigInt(guildId) }).then((r) => r.sessions.some((s) => String(s.userId) === eve.id));

    const session = await openGatewaySession(gatewayUrl, eve.token, guildId);
    assert.equal(await online(), true, "the owner counts eve online");
    const whileOnline = [
      await rest.ok("POST", `/channels/${channelId}/messages`, ada.token, { content: `<@${eve.id}> are you there?` }),
      await rest.ok("POST", `/channels/${dm.id}/messages`, ada.token, { content: "psst (online)" }),
    ];
    await session.close();
    await waitFor("the owner counting eve offline", async () => !(await online()) || undefined);
    const afterClose = [
      await rest.ok("POST", `/channels/${channelId}/messages`, ada.token, { content: `<@${eve.id}> now?` }),
      await rest.ok("POST", `/channels/${dm.id}/messages`, ada.token, { content: "psst (offline)" }),
    ];
    // Anything pushed for the first two messages would have come before these.
    const pushes = await pushOf(eves.subscription, 2, "eve's pushes after her session closed");
    assert.deepEqual(pushes.map((p) => p.data.message_id).sort(), afterClose.map((m) => m.id).sort());
    assert.deepEqual(pushes.map((p) => p.data.reason).sort(), ["direct_message", "mention"]);
    for (const m of whileOnline) assert.ok(!pushedIds(eves.subscription).includes(m.id), `no push for ${m.content}`);
  });

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

/** A Discord gateway session (IDENTIFY) that is ready once the guild's GUILD_CREATE arrived; close() ends it (1000). */
async function openGatewaySession(url: string, token: string, guildId: string): Promise<{ close(): Promise<void> }> {
  const socket = new WebSocket(`${url.replace(/\/$/, "")}/?v=10&encoding=json`);
  let heartbeat: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("close", (code) => reject(new Error(`the gateway closed the session (${code})`)));
    socket.on("message", (data: Buffer) => {
      const payload = JSON.parse(data.toString()) as { op: number; t: string | null; d: { heartbeat_interval?: number; id?: string } };
      if (payload.op === 10) {
        heartbeat = setInterval(() => socket.send(JSON.stringify({ op: 1, d: null })), payload.d.heartbeat_interval!);
        socket.send(JSON.stringify({ op: 2, d: { token, intents: 1, properties: { os: "linux", browser: "chorus-test", device: "chorus-test" } } }));
      }
      // GUILD_CREATE comes once the guild's owner counted the session online.
      if (payload.t === "GUILD_CREATE" && payload.d.id === guildId) resolve();
    });
  });
  await withTimeout(ready, 20_000, "the gateway session's GUILD_CREATE");
  return {
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        socket.removeAllListeners("close");
        socket.once("close", () => resolve());
        socket.close(1000);
      }),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms).unref())]);
}
