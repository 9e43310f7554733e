import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createRouterTransport, type Transport } from "@connectrpc/connect";
import { ChannelSchema, GuildSchema, MemberSchema, RoleSchema } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { GatewayService, type DeliverBatchRequest } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import { GuildEventSchema, GuildService, GuildStateSchema, type GuildEvent } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { FanoutEventSchema, FanoutRequestSchema } from "@chorus/contracts/chorus/relay/v1/relay_pb";
import { GuildModel } from "@chorus/guild-state/guild-model";
import { createLogger, MeshClients, MemoryRegistry, type ServiceInstance } from "@chorus/mesh";
import { Permission } from "@chorus/permissions";
import { RelayGuildCache } from "./guild-cache.js";
import { chunkShare, RelayFanout } from "./relay-fanout.js";

const logger = createLogger("test", "silent");
const GUILD = 100n;
const OPEN = 200n;
const SECRET = 201n;
const OWNER = 1n;

/** A guild with an open channel and one only role 300 may see; users 1 (owner), 2 (role 300), 3. */
function guildModel(): GuildModel {
  const model = new GuildModel(GUILD);
  model.apply(
    create(GuildEventSchema, {
      seq: 1n,
      change: {
        case: "guildCreated",
        value: create(GuildStateSchema, {
          guild: create(GuildSchema, { id: GUILD, name: "g", ownerId: OWNER }),
          roles: [
            create(RoleSchema, { id: GUILD, name: "@everyone", permissions: Permission.ViewChannel | Permission.SendMessages }),
            create(RoleSchema, { id: 300n, name: "vip", position: 1 }),
          ],
          channels: [
            create(ChannelSchema, { id: OPEN, type: 0, guildId: GUILD, name: "open" }),
            create(ChannelSchema, {
              id: SECRET,
              type: 0,
              guildId: GUILD,
              name: "secret",
              permissionOverwrites: [
                { id: GUILD, type: 0, deny: Permission.ViewChannel },
                { id: 300n, type: 0, allow: Permission.ViewChannel },
              ],
            }),
          ],
          members: [1n, 2n, 3n].map((userId) =>
            create(MemberSchema, { userId, roleIds: userId === 2n ? [300n] : [], joinedAt: timestampFromDate(new Date(0)) }),
          ),
        }),
      },
    }),
  );
  return model;
}

function instance(service: string, id: string): ServiceInstance {
  return { service, id, address: `${id}:1`, version: "test", startedAt: new Date(0).toISOString(), metadata: {} };
}

async function setup(options: { downGateways?: Set<string> } = {}) {
  const registry = new MemoryRegistry();
  const owner = guildModel();
  let stateCalls = 0;
  const delivered: { gateway: string; request: DeliverBatchRequest }[] = [];
  const transports = new Map<string, Transport>();
  transports.set(
    "guild-a",
    createRouterTransport((router) =>
      router.service(GuildService, {
        getGuildState() {
          stateCalls++;
          return { state: owner.toState(), seq: owner.seq };
        },
      }),
    ),
  );
  for (const gw of ["gw-a", "gw-b"]) {
    transports.set(
      gw,
      createRouterTransport((router) =>
        router.service(GatewayService, {
          deliverBatch(request) {
            if (options.downGateways?.has(gw)) throw new ConnectError("connection refused", Code.Unavailable);
            delivered.push({ gateway: gw, request });
            return { sent: request.recipients.length, buffered: 0 };
          },
        }),
      ),
    );
  }
  await registry.register(instance("guild", "guild-a"));
  await registry.register(instance("gateway", "gw-a"));
  await registry.register(instance("gateway", "gw-b"));
  const clients = new MeshClients({ registry, transportFor: (i) => transports.get(i.id)!, defaultTimeoutMs: 1000, logger });
  const cache = new RelayGuildCache(clients, logger);
  const lookups: bigint[][] = [];
  const fanout = new RelayFanout({
    cache,
    clients,
    registry,
    logger,
    lookupSessions: async (userIds) => {
      lookups.push([...userIds]);
      return userIds.map((userId) => ({ userId, sessionId: `direct-${userId}`, gatewayInstanceId: "gw-b" }) as never);
    },
  });
  return { owner, fanout, cache, delivered, stateCalls: () => stateCalls, lookups };
}

const sessions = [
  { userId: 1n, sessionId: "s1", gatewayInstanceId: "gw-a" },
  { userId: 2n, sessionId: "s2", gatewayInstanceId: "gw-b" },
  { userId: 3n, sessionId: "s3", gatewayInstanceId: "gw-a" },
  { userId: 3n, sessionId: "s3b", gatewayInstanceId: "gw-b" },
];

function request(channelId: bigint, seq: bigint, extra: Record<string, unknown> = {}) {
  const init = {
    ownerId: GUILD,
    guildSeq: seq,
    channelId,
    deliveryId: `d-${channelId}-${seq}`,
    event: "MESSAGE_CREATE",
    data: new TextEncoder().encode('{"x":1}'),
    intents: 512,
    sessions,
    ...extra,
  };
  return create(FanoutRequestSchema, init as MessageInitShape<typeof FanoutRequestSchema>);
}

function byGateway(delivered: { gateway: string; request: DeliverBatchRequest }[]) {
  return Object.fromEntries(delivered.map((d) => [d.gateway, d.request.recipients.map((r) => r.sessionId).sort()]));
}

describe("relay fan-out", () => {
  it("groups the sessions by gateway node: one Deliver per node, the event bytes passed through as they came", async () => {
    const { fanout, delivered } = await setup();
    const result = await fanout.fanout(request(OPEN, 1n));
    assert.equal(result.delivered, 4);
    assert.equal(delivered.length, 2);
    assert.deepEqual(byGateway(delivered), { "gw-a": ["s1", "s3"], "gw-b": ["s2", "s3b"] });
    for (const d of delivered) {
      assert.equal(d.request.dispatches.length, 1);
      const [dispatch] = d.request.dispatches;
      assert.equal(new TextDecoder().decode(dispatch.data), '{"x":1}');
      assert.equal(dispatch.deliveryId, `d-${OPEN}-1`);
      assert.equal(dispatch.intents, 512);
      assert.deepEqual(dispatch.recipientIndexes, [], "every recipient of the batch");
    }
  });

  it("keeps only the sessions of users allowed to see the channel (overwrites), the owner included", async () => {
    const { fanout, delivered } = await setup();
    const result = await fanout.fanout(request(SECRET, 1n));
    assert.deepEqual(byGateway(delivered), { "gw-a": ["s1"], "gw-b": ["s2"] });
    assert.equal(result.filtered, 2);
  });

  it("reaches users named by id on all their sessions, past the channel filter", async () => {
    const { fanout, delivered, lookups } = await setup();
    await fanout.fanout(request(SECRET, 1n, { sessions: [], userIds: [3n] }));
    assert.deepEqual(lookups, [[3n]]);
    assert.deepEqual(byGateway(delivered), { "gw-b": ["direct-3"] });
  });

  it("delivers a dead gateway node's share through another node", async () => {
    const { fanout, delivered } = await setup({ downGateways: new Set(["gw-a"]) });
    await fanout.fanout(request(OPEN, 1n));
    assert.deepEqual(delivered.map((d) => d.gateway), ["gw-b", "gw-b"]);
    assert.deepEqual(delivered.flatMap((d) => d.request.recipients.map((r) => r.sessionId)).sort(), ["s1", "s2", "s3", "s3b"]);
  });

  it("fills its table from the owner once, applies guild events in order, and refetches after a gap", async () => {
    const { fanout, owner, stateCalls, delivered } = await setup();
    await fanout.fanout(request(OPEN, 1n));
    await fanout.fanout(request(OPEN, 1n, { deliveryId: "again" }));
    assert.equal(stateCalls(), 1, "one table per guild, filled once");
    // User 3 gets role 300: the next event carries it, and the secret channel opens to them.
    const grant: GuildEvent = create(GuildEventSchema, {
      seq: 2n,
      dispatch: "GUILD_MEMBER_UPDATE",
      change: { case: "memberUpdated", value: create(MemberSchema, { userId: 3n, roleIds: [300n] }) },
    });
    owner.apply(grant);
    delivered.length = 0;
    await fanout.fanout(request(SECRET, 2n, { guildEvent: grant }));
    assert.equal(stateCalls(), 1, "an event in sequence is applied, not refetched");
    assert.deepEqual(byGateway(delivered), { "gw-a": ["s1", "s3"], "gw-b": ["s2", "s3b"] });
    // Seq 3 never reached this relay; seq 4 does: the gap makes it take the owner's state.
    const revoke3 = create(GuildEventSchema, { seq: 3n, change: { case: "memberUpdated", value: create(MemberSchema, { userId: 3n, roleIds: [] }) } });
    const noop4 = create(GuildEventSchema, { seq: 4n, change: { case: "roleUpdated", value: create(RoleSchema, { id: 300n, name: "vip!", position: 1 }) } });
    owner.apply(revoke3);
    owner.apply(noop4);
    delivered.length = 0;
    await fanout.fanout(request(SECRET, 4n, { guildEvent: noop4 }));
    assert.equal(stateCalls(), 2);
    assert.deepEqual(byGateway(delivered), { "gw-a": ["s1"], "gw-b": ["s2"] });
  });

  it("a batch: each event filtered on the table as of that event, one DeliverBatch per node", async () => {
    const { fanout, owner, delivered } = await setup();
    const grant: GuildEvent = create(GuildEventSchema, {
      seq: 2n,
      dispatch: "GUILD_MEMBER_UPDATE",
      change: { case: "memberUpdated", value: create(MemberSchema, { userId: 3n, roleIds: [300n] }) },
    });
    const bytes = (v: string) => new TextEncoder().encode(v);
    const message = (deliveryId: string, guildSeq: bigint) =>
      create(FanoutEventSchema, { guildSeq, channelId: SECRET, deliveryId, event: "MESSAGE_CREATE", data: bytes(`"${deliveryId}"`), intents: 512, toSessions: true });
    await fanout.fanout(request(OPEN, 1n)); // the table, filled at seq 1
    delivered.length = 0;
    owner.apply(grant);
    const result = await fanout.fanoutBatch({
      ownerId: GUILD,
      sessions: sessions as never,
      events: [
        message("before", 1n),
        create(FanoutEventSchema, { guildSeq: 2n, guildEvent: grant, channelId: 0n, deliveryId: "grant", event: "GUILD_MEMBER_UPDATE", data: bytes('"grant"'), intents: 2, toSessions: true }),
        message("after", 2n),
      ],
    });
    assert.deepEqual(result, { delivered: 10, filtered: 2 });
    assert.equal(delivered.length, 2, "one DeliverBatch per gateway node");
    const view = Object.fromEntries(
      delivered.map(({ gateway, request }) => [
        gateway,
        request.dispatches.map((d) => [d.deliveryId, (d.recipientIndexes.length > 0 ? d.recipientIndexes : request.recipients.map((_, i) => i)).map((i) => request.recipients[i].sessionId)]),
      ]),
    );
    assert.deepEqual(view, {
      "gw-a": [["before", ["s1"]], ["grant", ["s1", "s3"]], ["after", ["s1", "s3"]]],
      "gw-b": [["before", ["s2"]], ["grant", ["s2", "s3b"]], ["after", ["s2", "s3b"]]],
    });
  });

  it("a table-only event (no dispatch) updates the table and delivers nothing", async () => {
    const { fanout, delivered } = await setup();
    const result = await fanout.fanout(request(OPEN, 1n, { event: "" }));
    assert.deepEqual(result, { delivered: 0, filtered: 0 });
    assert.equal(delivered.length, 0);
  });
});

describe("chunkShare", () => {
  const recipients = Array.from({ length: 5 }, (_, i) => ({ sessionId: `s${i}`, userId: BigInt(i) }));
  const dispatch = (deliveryId: string, recipientIndexes: number[]) => ({ deliveryId, event: "X", data: new Uint8Array(1), dataWithoutContent: new Uint8Array(), intents: 0, contentExemptUserIds: [], recipientIndexes });
  const view = (chunks: ReturnType<typeof chunkShare>) => chunks.map((c) => [c.recipients.map((r) => r.sessionId), c.dispatches.map((d) => [d.deliveryId, d.recipientIndexes])]);

  it("keeps a small share whole, every-recipient dispatches as empty index lists", () => {
    const chunks = chunkShare({ recipients, dispatches: [dispatch("a", [0, 1, 2, 3, 4]), dispatch("b", [1, 3])] });
    assert.deepEqual(view(chunks), [[["s0", "s1", "s2", "s3", "s4"], [["a", []], ["b", [1, 3]]]]]);
  });

  it("cuts by recipients so no call exceeds the pair budget; each session's dispatches stay in one call, in order", () => {
    const chunks = chunkShare({ recipients, dispatches: [dispatch("a", [0, 1, 2, 3, 4]), dispatch("b", [1, 4])] }, 4);
    assert.deepEqual(view(chunks), [
      [["s0", "s1"], [["a", []], ["b", [1]]]],
      [["s2", "s3"], [["a", []]]],
      [["s4"], [["a", []], ["b", []]]],
    ]);
  });
});
