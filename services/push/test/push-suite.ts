// The push tests both run modes share (push-cluster.test.ts, push-embedded.test.ts): people
// register Web Push subscriptions at a local RFC 8030 service through the Discord-style API;
// a member's own notification level wins over the guild's default both ways; a member with a
// live gateway session gets no push (mention or DM) until the session closes.
import { it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { NotificationService } from "@chorus/contracts/chorus/api/v1/notifications_pb";
import { waitFor, type DiscordRest, type WebPushEndpoint, type WebPushSubscription } from "@chorus/testing";

export interface Person {
  id: string;
  token: string;
  username: string;
}

/** A running Chorus with push, and what the tests drive it with. */
export interface PushTarget {
  rest: DiscordRest;
  /** The api's HTTP origin (Discord routes under /api/v10, Connect at the root). */
  httpUrl: string;
  pushService: WebPushEndpoint;
  gatewayUrl: string;
  /** Whether the guild's owner counts the user online (GuildService.ListOnline). */
  online(guildId: string, userId: string): Promise<boolean>;
}

const run = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let serial = 0;

/** People, their subscriptions and their guilds, made through the Discord-style API. */
export class PushPeople {
  constructor(private readonly target: () => PushTarget) {}

  async register(label: string): Promise<Person> {
    const username = `${label}_${run}_${serial++}`.slice(0, 32);
    const { token } = await this.target().rest.ok("POST", "/auth/register", undefined, { username, email: `${username}@example.com`, password: "correct horse battery" });
    const me = await this.target().rest.ok("GET", "/users/@me", token);
    return { id: me.id, token, username };
  }

  async subscribe(person: Person): Promise<{ subscription: WebPushSubscription; deviceId: string }> {
    const subscription = this.target().pushService.subscribe();
    const device = await this.target().rest.ok("POST", "/users/@me/devices", person.token, { type: "webpush", ...subscription, name: "Firefox" });
    assert.equal(device.type, "webpush");
    assert.equal(device.endpoint, subscription.endpoint);
    assert.equal(device.keys, undefined, "the keys are never echoed");
    return { subscription, deviceId: device.id };
  }

  async guildWith(owner: Person, members: Person[], defaultMessageNotifications?: number): Promise<{ guildId: string; channelId: string }> {
    const guild = await this.target().rest.ok("POST", "/guilds", owner.token, { name: `push ${run}` });
    if (defaultMessageNotifications !== undefined) {
      const modified = await this.target().rest.ok("PATCH", `/guilds/${guild.id}`, owner.token, { default_message_notifications: defaultMessageNotifications });
      assert.equal(modified.default_message_notifications, defaultMessageNotifications);
    }
    const channels: { id: string; name: string; type: number }[] = await this.target().rest.ok("GET", `/guilds/${guild.id}/channels`, owner.token);
    const general = channels.find((c) => c.type === 0 && c.name === "general")!;
    const invite = await this.target().rest.ok("POST", `/channels/${general.id}/invites`, owner.token, {});
    for (const m of members) await this.target().rest.ok("POST", `/invites/${invite.code}`, m.token);
    return { guildId: guild.id, channelId: general.id };
  }
}

/** Registers the shared tests in the calling describe; `target` is ready once its before() ran. */
export function pushSettingsTests(target: () => PushTarget): void {
  const people = new PushPeople(target);
  /** Message ids of the pushes a subscription received so far. */
  const pushedIds = (subscription: WebPushSubscription) =>
    target().pushService.state.received.filter((r) => subscription.endpoint.endsWith(r.subscription)).map((r) => (JSON.parse(r.plaintext) as { data: { message_id: string } }).data.message_id);
  const pushOf = async (subscription: WebPushSubscription, count: number, what: string) =>
    (await withTimeout(target().pushService.waitFor(subscription.endpoint, count), 20_000, what)).map((p) => JSON.parse(p.plaintext) as { data: Record<string, string> });

  it("a member's own setting overrides the guild's default both ways: all messages in an only-mentions guild, only mentions in an all-messages guild", async () => {
    const [ada, bob, cy, dee] = [await people.register("ada"), await people.register("bob"), await people.register("cy"), await people.register("dee")];
    const [bobs, cys, dees] = [await people.subscribe(bob), await people.subscribe(cy), await people.subscribe(dee)];
    const quiet = await people.guildWith(ada, [bob, cy, dee], 1);
    const loud = await people.guildWith(ada, [bob, cy, dee], 0);
    // Quiet guild: Bob wants everything; Dee wants nothing but everything of #general; Cy keeps the default.
    assert.equal((await target().rest.ok("PATCH", `/users/@me/guilds/${quiet.guildId}/settings`, bob.token, { message_notifications: 0 })).message_notifications, 0);
    await target().rest.ok("PATCH", `/users/@me/guilds/${quiet.guildId}/settings`, dee.token, { message_notifications: 2, channel_overrides: { [quiet.channelId]: { message_notifications: 0 } } });
    // Loud guild: Bob wants only mentions, Dee nothing; Cy keeps the default.
    await target().rest.ok("PATCH", `/users/@me/guilds/${loud.guildId}/settings`, bob.token, { message_notifications: 1 });
    await target().rest.ok("PATCH", `/users/@me/guilds/${loud.guildId}/settings`, dee.token, { message_notifications: 2 });

    const inQuiet = await target().rest.ok("POST", `/channels/${quiet.channelId}/messages`, ada.token, { content: "plain news" });
    const inLoud = await target().rest.ok("POST", `/channels/${loud.channelId}/messages`, ada.token, { content: "more plain news" });
    const [bobsPush] = await pushOf(bobs.subscription, 1, "bob's all-messages push");
    assert.deepEqual(bobsPush.data, { channel_id: quiet.channelId, message_id: inQuiet.id, author_id: ada.id, guild_id: quiet.guildId, reason: "all_messages" });
    const [deesPush] = await pushOf(dees.subscription, 1, "dee's push through her channel override");
    assert.equal(deesPush.data.message_id, inQuiet.id);
    const [cysPush] = await pushOf(cys.subscription, 1, "cy's push by the loud guild's default");
    assert.equal(cysPush.data.message_id, inLoud.id);
    // Later mentions of each arrive after anything the plain messages could have caused.
    const mention = await target().rest.ok("POST", `/channels/${loud.channelId}/messages`, ada.token, { content: `<@${bob.id}> <@${cy.id}> <@${dee.id}> ok?` });
    await pushOf(bobs.subscription, 2, "bob's mention");
    await pushOf(cys.subscription, 2, "cy's mention");
    assert.deepEqual(pushedIds(bobs.subscription), [inQuiet.id, mention.id], "bob: all of the quiet guild, only mentions of the loud one");
    assert.deepEqual(pushedIds(cys.subscription), [inLoud.id, mention.id], "cy: the guilds' defaults");
    // "Nothing" silences Dee's mentions in the loud guild too.
    const sentinel = await target().rest.ok("POST", `/channels/${quiet.channelId}/messages`, ada.token, { content: `<@${dee.id}> last one` });
    await pushOf(dees.subscription, 2, "dee's push in #general of the quiet guild");
    assert.deepEqual(pushedIds(dees.subscription), [inQuiet.id, sentinel.id], "dee: only #general of the quiet guild");
    // Settings of a guild one is not in are refused (its owner holds members' settings).
    const outsider = await people.register("out");
    const refused = await target().rest.call("PATCH", `/users/@me/guilds/${quiet.guildId}/settings`, outsider.token, { message_notifications: 0 });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((refused.body as { code: number }).code, 50001);
    const connect = createClient(NotificationService, createConnectTransport({ baseUrl: target().httpUrl, httpVersion: "1.1" }));
    const viaConnect = await connect
      .updateNotificationSettings({ settings: { guildId: BigInt(quiet.guildId), messageNotifications: 0 } }, { headers: { authorization: `Bearer ${outsider.token}` } })
      .then(() => undefined, (err: unknown) => ConnectError.from(err));
    assert.equal(viaConnect?.code, Code.PermissionDenied, String(viaConnect));
  });

  it("a member with a live gateway session gets no push for a mention or a DM; once the session is closed, they do", async () => {
    const [ada, eve] = [await people.register("ada"), await people.register("eve")];
    const eves = await people.subscribe(eve);
    const { guildId, channelId } = await people.guildWith(ada, [eve], 1);
    const dm = await target().rest.ok("POST", "/users/@me/channels", ada.token, { recipient_id: eve.id });
    const online = () => target().online(guildId, eve.id);

    const session = await openGatewaySession(target().gatewayUrl, eve.token, guildId);
    assert.equal(await online(), true, "the owner counts eve online");
    const whileOnline = [
      await target().rest.ok("POST", `/channels/${channelId}/messages`, ada.token, { content: `<@${eve.id}> are you there?` }),
      await target().rest.ok("POST", `/channels/${dm.id}/messages`, ada.token, { content: "psst (online)" }),
    ];
    await session.close();
    await waitFor("the owner counting eve offline", async () => !(await online()) || undefined);
    const afterClose = [
      await target().rest.ok("POST", `/channels/${channelId}/messages`, ada.token, { content: `<@${eve.id}> now?` }),
      await target().rest.ok("POST", `/channels/${dm.id}/messages`, ada.token, { content: "psst (offline)" }),
    ];
    // Anything pushed for the first two messages would have come before these.
    const pushes = await pushOf(eves.subscription, 2, "eve's pushes after her session closed");
    assert.deepEqual(pushes.map((p) => p.data.message_id).sort(), afterClose.map((m) => m.id).sort());
    assert.deepEqual(pushes.map((p) => p.data.reason).sort(), ["direct_message", "mention"]);
    for (const m of whileOnline) assert.ok(!pushedIds(eves.subscription).includes(m.id), `no push for ${m.content}`);
  });
}

/** A Discord gateway session (IDENTIFY) that is ready once the guild's GUILD_CREATE arrived; close() ends it (1000). */
export async function openGatewaySession(url: string, token: string, guildId: string): Promise<{ close(): Promise<void> }> {
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

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms).unref())]);
}
