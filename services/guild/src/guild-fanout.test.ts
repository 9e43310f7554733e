import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { OnlineSessionSchema, type OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { RelayService, type FanoutBatchRequest } from "@chorus/contracts/chorus/relay/v1/relay_pb";
import { createLogger, MeshClients, MemoryRegistry } from "@chorus/mesh";
import type { Dispatch } from "./guild-dispatch.js";
import { batchJobs, GuildFanout, type FanoutJob } from "./guild-fanout.js";

const logger = createLogger("test", "silent");
const session = (n: number) => create(OnlineSessionSchema, { userId: BigInt(n), sessionId: `s${n}`, gatewayInstanceId: "gw" });
const online = [session(1), session(2), session(3), session(4)];

function job(id: string, over: Partial<Dispatch> = {}, sessions: readonly OnlineSession[] = online): FanoutJob {
  const dispatch: Dispatch = { event: "MESSAGE_CREATE", data: Buffer.from(id), intents: 0, channelId: 0n, userIds: [], toOnlineMembers: true, ...over };
  return { ownerId: 1n, guildSeq: 1n, deliveryId: id, dispatch, sessions };
}

describe("batchJobs", () => {
  it("keeps consecutive jobs with the same audience together, up to the cap", () => {
    const jobs = ["a", "b", "c", "d", "e"].map((id) => job(id));
    assert.deepEqual(batchJobs(jobs).map((b) => b.map((j) => j.deliveryId)), [["a", "b", "c", "d", "e"]]);
    assert.deepEqual(batchJobs(jobs, 2).map((b) => b.map((j) => j.deliveryId)), [["a", "b"], ["c", "d"], ["e"]]);
  });

  it("an equal online list (a copy) is the same audience; a changed one starts a batch", () => {
    const jobs = [job("a"), job("b", {}, [...online]), job("c", {}, online.slice(1)), job("d", {}, online.slice(1))];
    assert.deepEqual(batchJobs(jobs).map((b) => b.map((j) => j.deliveryId)), [["a", "b"], ["c", "d"]]);
  });

  it("jobs only for users by id join any batch", () => {
    const jobs = [job("a"), job("direct", { toOnlineMembers: false, userIds: [9n] }, []), job("b")];
    assert.deepEqual(batchJobs(jobs).map((b) => b.map((j) => j.deliveryId)), [["a", "direct", "b"]]);
  });
});

describe("GuildFanout", () => {
  async function setup(relayIds: string[]) {
    const registry = new MemoryRegistry();
    const calls: { relay: string; request: FanoutBatchRequest }[] = [];
    let release: () => void = () => undefined;
    let hold: Promise<void> | undefined;
    const transports = new Map(
      relayIds.map((id) => [
        id,
        createRouterTransport((router) =>
          router.service(RelayService, {
            async fanoutBatch(request) {
              calls.push({ relay: id, request });
              await hold;
              return {};
            },
          }),
        ),
      ]),
    );
    for (const id of relayIds) await registry.register({ service: "relay", id, address: `${id}:1`, version: "t", startedAt: "", metadata: {} });
    const clients = new MeshClients({ registry, transportFor: (i) => transports.get(i.id)!, defaultTimeoutMs: 1000, logger });
    const fanout = new GuildFanout(clients, registry, logger);
    return {
      fanout,
      calls,
      holdRelays: () => (hold = new Promise<void>((resolve) => (release = resolve))),
      releaseRelays: () => {
        hold = undefined;
        release();
      },
    };
  }
  const ids = (request: FanoutBatchRequest) => request.events.map((e) => e.deliveryId);

  it("events queued while a batch is on its way go together as the next batch, in queue order", async () => {
    const { fanout, calls, holdRelays, releaseRelays } = await setup(["r1"]);
    holdRelays();
    fanout.enqueue(1n, Promise.resolve([job("a")]));
    await new Promise((resolve) => setTimeout(resolve, 10));
    // "c" becomes ready before "b": it still goes after it.
    let readyB: (jobs: FanoutJob[]) => void = () => undefined;
    fanout.enqueue(1n, new Promise((resolve) => (readyB = resolve)));
    fanout.enqueue(1n, Promise.resolve([job("c")]));
    fanout.enqueue(1n, Promise.reject(new Error("not stored")));
    fanout.enqueue(1n, Promise.resolve([job("d")]));
    readyB([job("b")]);
    releaseRelays();
    await fanout.settled(1n);
    assert.deepEqual(calls.map((c) => ids(c.request)), [["a"], ["b", "c", "d"]]);
    assert.equal(calls[1].request.sessions.length, 4);
  });

  it("splits the online sessions over the relays; a batch reaching users by id goes whole through one", async () => {
    const { fanout, calls } = await setup(["r1", "r2"]);
    fanout.enqueue(1n, Promise.resolve([job("a"), job("b")]));
    await fanout.settled(1n);
    assert.deepEqual(calls.map((c) => [c.relay, ids(c.request), c.request.sessions.map((s) => s.sessionId)]), [
      ["r1", ["a", "b"], ["s1", "s3"]],
      ["r2", ["a", "b"], ["s2", "s4"]],
    ]);
    calls.length = 0;
    fanout.enqueue(1n, Promise.resolve([job("c"), job("dm", { toOnlineMembers: false, userIds: [9n] }, [])]));
    await fanout.settled(1n);
    assert.deepEqual(calls.map((c) => [c.relay, ids(c.request), c.request.sessions.length, c.request.events.flatMap((e) => e.userIds)]), [["r1", ["c", "dm"], 4, [9n]]]);
  });
});
