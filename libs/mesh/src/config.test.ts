import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, loadConfig, meshEnvSchema } from "./config.js";

describe("environment config", () => {
  it("applies defaults when nothing is set", () => {
    const config = loadConfig(meshEnvSchema, {});
    assert.equal(config.CHORUS_LEASE_TTL_SECONDS, 10);
    assert.deepEqual(config.CHORUS_ETCD_ENDPOINTS, ["http://127.0.0.1:2379"]);
    assert.equal(config.CHORUS_GRPC_PORT, 0);
  });

  it("parses values and treats empty strings as unset", () => {
    const config = loadConfig(meshEnvSchema, {
      CHORUS_GRPC_PORT: "9000",
      CHORUS_ETCD_ENDPOINTS: "http://a:2379, http://b:2379",
      CHORUS_LEASE_TTL_SECONDS: "",
    });
    assert.equal(config.CHORUS_GRPC_PORT, 9000);
    assert.deepEqual(config.CHORUS_ETCD_ENDPOINTS, ["http://a:2379", "http://b:2379"]);
    assert.equal(config.CHORUS_LEASE_TTL_SECONDS, 10);
  });

  it("names every bad variable in one error", () => {
    assert.throws(
      () =>
        loadConfig(meshEnvSchema, {
          CHORUS_GRPC_PORT: "70000",
          CHORUS_ETCD_ENDPOINTS: "not a url",
          CHORUS_ADVERTISE_ADDRESS: "nohostport",
          LOG_LEVEL: "loud",
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const variables = err.problems.map((p) => p.variable).sort();
        assert.deepEqual(variables, ["CHORUS_ADVERTISE_ADDRESS", "CHORUS_ETCD_ENDPOINTS", "CHORUS_GRPC_PORT", "LOG_LEVEL"]);
        assert.match(err.message, /CHORUS_GRPC_PORT: must be between 0 and 65535/);
        return true;
      },
    );
  });
});
