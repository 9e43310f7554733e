import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createRouterTransport, type Transport } from "@connectrpc/connect";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { Health } from "@chorus/contracts/grpc/health/v1/health_pb";
import { ServerReflection } from "@chorus/contracts/grpc/reflection/v1/reflection_pb";
import { createLogger } from "./logger.js";
import { MemoryRegistry } from "./memory-registry.js";
import { asInstanceLoss, isRetryable, MeshClients, notOwnerError, serviceNameOf } from "./mesh-clients.js";
import type { ServiceInstance } from "./registry.js";

const logger = createLogger("test", "silent");

function instance(id: string): ServiceInstance {
  return { service: "guild", id, address: `${id}:1`, version: "test", startedAt: new Date(0).toISOString(), metadata: {} };
}

/** A guild instance that answers with its id, or refuses every call like a dead process. */
function guildTransport(id: string, calls: string[], down: () => boolean): Transport {
  return createRouterTransport((router) =>
    router.service(GuildService, {
      getStatus() {
        calls.push(id);
        if (down()) throw new ConnectError("connection refused", Code.Unavailable);
        return { node: { instanceId: id, service: "guild" } };
      },
    }),
  );
}

async function setup(ids: string[], downIds: Set<string> = new Set()) {
  const registry = new MemoryRegistry();
  const calls: string[] = [];
  const transports = new Map(ids.map((id) => [id, guildTransport(id, calls, () => downIds.has(id))]));
  for (const id of ids) await registry.register(instance(id));
  const clients = new MeshClients({ registry, transportFor: (i) => transports.get(i.id)!, defaultTimeoutMs: 1000, logger });
  return { registry, clients, calls };
}

describe("mesh client factory", () => {
  it("maps contracts to service names", () => {
    assert.equal(serviceNameOf(GuildService), "guild");
    assert.throws(() => serviceNameOf(Health), /not a chorus/);
  });

  it("marks only idempotent unary methods retryable", () => {
    assert.equal(isRetryable(GuildService.method.getStatus), true); // NO_SIDE_EFFECTS in the contract
    assert.equal(isRetryable(Health.method.check), false); // no idempotency option
    assert.equal(isRetryable(ServerReflection.method.serverReflectionInfo), false); // streaming
  });

  it("routes a shard key to the same instance every time, and spreads keys across instances", async () => {
    const { clients } = await setup(["a", "b", "c"]);
    const seen = new Map<string, string>();
    for (let i = 0; i < 300; i++) {
      const key = String(1000n + BigInt(i) * 7919n);
      const owner = (await clients.client(GuildService, key).getStatus({})).node!.instanceId;
      const again = (await clients.client(GuildService, key).getStatus({})).node!.instanceId;
      assert.equal(again, owner);
      seen.set(key, owner);
    }
    assert.deepEqual(new Set(seen.values()), new Set(["a", "b", "c"]));
  });

  it("round-robins unsharded calls", async () => {
    const { clients } = await setup(["a", "b"]);
    const client = clients.client(GuildService);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await client.getStatus({})).node!.instanceId);
    assert.deepEqual(ids.sort(), ["a", "a", "b", "b"]);
  });

  it("retries an idempotent call on the next instance when one is unavailable, then avoids it", async () => {
    const { clients, calls } = await setup(["a", "b"], new Set(["a"]));
    const key = [...Array(100).keys()].map(String).find((k) => clients.ownerOf("guild", k)?.id === "a")!;
    const res = await clients.client(GuildService, key).getStatus({});
    assert.equal(res.node!.instanceId, "b");
    assert.deepEqual(calls, ["a", "b"]);
    calls.length = 0;
    await clients.client(GuildService, key).getStatus({});
    assert.deepEqual(calls, ["b"], "the refusing instance is skipped while suspect");
  });

  it("treats a stream reset by a dying peer (CANCELED the caller did not ask for) as UNAVAILABLE and retries", async () => {
    const registry = new MemoryRegistry();
    const calls: string[] = [];
    const reset = createRouterTransport((router) =>
      router.service(GuildService, {
        getStatus() {
          calls.push("a");
          throw new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled);
        },
      }),
    );
    const healthy = guildTransport("b", calls, () => false);
    await registry.register(instance("a"));
    await registry.register(instance("b"));
    const clients = new MeshClients({ registry, transportFor: (i) => (i.id === "a" ? reset : healthy), defaultTimeoutMs: 1000, logger });
    const key = [...Array(100).keys()].map(String).find((k) => clients.ownerOf("guild", k)?.id === "a")!;
    assert.equal((await clients.client(GuildService, key).getStatus({})).node!.instanceId, "b");
    assert.deepEqual(calls, ["a", "b"]);
    // Bound to the resetting instance: no retry, but the code says the instance is gone.
    const a = registry.instances("guild").find((i) => i.id === "a")!;
    await assert.rejects(clients.clientFor(GuildService, a).getStatus({}), (err: ConnectError) => err.code === Code.Unavailable);
  });

  it("does not take an instance that answers NotOwner for dead: the owner keeps getting its keys", async () => {
    const registry = new MemoryRegistry();
    const calls: string[] = [];
    let refuse = true;
    const transports = new Map(
      ["a", "b"].map((id) => [
        id,
        createRouterTransport((router) =>
          router.service(GuildService, {
            getStatus() {
              calls.push(id);
              if (id === "a" && refuse) throw notOwnerError("a", "k");
              return { node: { instanceId: id, service: "guild" } };
            },
          }),
        ),
      ]),
    );
    for (const id of ["a", "b"]) await registry.register(instance(id));
    const clients = new MeshClients({ registry, transportFor: (i) => transports.get(i.id)!, defaultTimeoutMs: 1000, logger });
    const key = [...Array(100).keys()].map(String).find((k) => clients.ownerOf("guild", k)?.id === "a")!;
    await clients.client(GuildService, key).getStatus({}).catch(() => undefined);
    assert.equal(calls[0], "a");
    refuse = false;
    calls.length = 0;
    assert.equal(clients.ownerOf("guild", key)?.id, "a", "a NotOwner answer must not make the owner suspect");
    assert.equal((await clients.client(GuildService, key).getStatus({})).node!.instanceId, "a");
  });

  it("treats a connection reset under the call (ABORTED with ECONNRESET as the cause) as UNAVAILABLE, but keeps a server's ABORTED", async () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const lost = asInstanceLoss(new ConnectError("read ECONNRESET", Code.Aborted, undefined, undefined, reset), undefined);
    assert.equal(lost.code, Code.Unavailable);
    const wrapped = asInstanceLoss(new ConnectError("x", Code.Aborted, undefined, undefined, new Error("outer", { cause: reset })), undefined);
    assert.equal(wrapped.code, Code.Unavailable, "found down the cause chain");
    const fenced = asInstanceLoss(new ConnectError("guild 1: the log moved past 3", Code.Aborted), undefined);
    assert.equal(fenced.code, Code.Aborted, "an ABORTED the server answered stays ABORTED");
    const controller = new AbortController();
    controller.abort();
    const mine = asInstanceLoss(new ConnectError("read ECONNRESET", Code.Aborted, undefined, undefined, reset), { signal: controller.signal });
    assert.equal(mine.code, Code.Aborted);
  });

  it("keeps CANCELED when the caller aborted the call", async () => {
    const { clients } = await setup(["a"]);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(clients.client(GuildService, "1").getStatus({}, { signal: controller.signal }), (err: ConnectError) => err.code === Code.Canceled);
  });

  it("fails with UNAVAILABLE naming the service when no instance is live", async () => {
    const { clients } = await setup([]);
    await assert.rejects(clients.client(GuildService, "1").getStatus({}), (err: ConnectError) => {
      assert.equal(err.code, Code.Unavailable);
      assert.match(err.message, /no live instance of service "guild"/);
      return true;
    });
  });

  it("does not retry calls bound to one instance", async () => {
    const { clients, calls, registry } = await setup(["a", "b"], new Set(["a"]));
    const a = registry.instances("guild").find((i) => i.id === "a")!;
    await assert.rejects(clients.clientFor(GuildService, a).getStatus({}), (err: ConnectError) => err.code === Code.Unavailable);
    assert.deepEqual(calls, ["a"]);
  });

  it("gives every call a deadline", async () => {
    const registry = new MemoryRegistry();
    await registry.register(instance("slow"));
    const transport = createRouterTransport((router) =>
      router.service(GuildService, {
        async getStatus(_req, ctx) {
          await new Promise((resolve) => setTimeout(resolve, 5000).unref());
          return { node: { instanceId: String(ctx.timeoutMs()) } };
        },
      }),
    );
    const clients = new MeshClients({ registry, transportFor: () => transport, defaultTimeoutMs: 100, logger });
    const started = Date.now();
    await assert.rejects(clients.client(GuildService).getStatus({}), (err: ConnectError) => err.code === Code.DeadlineExceeded);
    assert.ok(Date.now() - started < 3000);
  });
});
