import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { Health } from "@chorus/contracts/grpc/health/v1/health_pb";
import { admissionControl } from "./admission-control.js";
import { HealthState, registerHealth } from "./health.js";

describe("admission control", () => {
  it("refuses calls past the limit with RESOURCE_EXHAUSTED, lets health through, and recovers", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const transport = createRouterTransport(
      (router) => {
        router.service(GuildService, {
          async getStatus() {
            await gate;
            return {};
          },
        });
        registerHealth(router, new HealthState());
      },
      { router: { interceptors: [admissionControl(2)] } },
    );
    const guild = createClient(GuildService, transport);
    const held = [guild.getStatus({}), guild.getStatus({})];
    await new Promise((resolve) => setTimeout(resolve, 20));
    await assert.rejects(guild.getStatus({}), (err: ConnectError) => {
      assert.equal(err.code, Code.ResourceExhausted);
      assert.match(err.message, /limit 2/);
      return true;
    });
    const health = await createClient(Health, transport).check({ service: "" });
    assert.equal(health.status, 1, "health checks are never refused");
    release();
    await Promise.all(held);
    await guild.getStatus({}); // capacity is back
  });
});
