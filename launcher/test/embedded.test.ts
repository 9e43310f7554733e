// `npm start`'s process: every service in one process with no external infrastructure.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import WebSocket from "ws";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { repoPath, startEmbeddedChorus, waitFor, type EmbeddedChorusProcess } from "@chorus/testing";

const CONTRACTS = [
  "chorus.api.v1.ServerService",
  "chorus.guild.v1.GuildService",
  "chorus.relay.v1.RelayService",
  "chorus.gateway.v1.GatewayService",
  "chorus.push.v1.PushService",
  "chorus.voice.v1.VoiceService",
  "chorus.storage.v1.StorageService",
  "chorus.search.v1.SearchService",
];

describe("embedded mode", () => {
  let chorus: EmbeddedChorusProcess;
  let ports: EmbeddedChorusProcess["ports"];
  let stdout = "";

  before(async () => {
    chorus = await startEmbeddedChorus({ CHORUS_GATEWAY_HEARTBEAT_MS: "1000" });
    ports = chorus.ports;
    stdout = chorus.output();
  });

  after(() => chorus.stop());

  it("prints the URLs it serves", () => {
    assert.match(stdout, new RegExp(`http\\s+http://127\\.0\\.0\\.1:${ports.http}`));
    assert.match(stdout, new RegExp(`gateway\\s+ws://127\\.0\\.0\\.1:${ports.gateway}`));
    assert.match(stdout, new RegExp(`grpc\\s+http://127\\.0\\.0\\.1:${ports.grpc}`));
  });

  it("GET /healthz reports every service SERVING", async () => {
    const res = await fetch(`http://127.0.0.1:${ports.http}/healthz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; mode: string; services: Record<string, { status: string }> };
    assert.equal(body.status, "ok");
    assert.equal(body.mode, "embedded");
    assert.deepEqual(Object.keys(body.services).sort(), ["api", "gateway", "guild", "push", "relay", "search", "storage", "voice"]);
    for (const [name, s] of Object.entries(body.services)) assert.equal(s.status, "SERVING", name);
  });

  it("GET /metrics serves Prometheus metrics including the RPCs /healthz made", async () => {
    const text = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
    assert.match(text, /^rpc_server_requests_total\{service="chorus.storage.v1.StorageService",method="GetStatus",code="ok"\} [1-9]/m);
    assert.match(text, /^rpc_client_requests_total\{service="chorus.storage.v1.StorageService",method="GetStatus",code="ok"\} [1-9]/m);
  });

  it("the Connect API answers on the HTTP edge", async () => {
    const res = await fetch(`http://127.0.0.1:${ports.http}/chorus.api.v1.ServerService/GetServerInfo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { gatewayUrl: string; services: { name: string; status: string }[] };
    assert.equal(body.gatewayUrl, `ws://127.0.0.1:${ports.gateway}`);
    assert.equal(body.services.length, 8);
    assert.ok(body.services.every((s) => s.status === "SERVING_STATUS_SERVING"));
  });

  it("every contract answers gRPC health on the one shared port", async () => {
    const definition = protoLoader.loadSync("grpc/health/v1/health.proto", { includeDirs: [repoPath("proto")], enums: String });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
    const client = new pkg.grpc.health.v1.Health(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      Check(r: object, cb: (e: Error | null, v: { status: string }) => void): void;
    };
    try {
      for (const service of CONTRACTS) {
        const res = await new Promise<{ status: string }>((resolve, reject) =>
          client.Check({ service }, (err, v) => (err ? reject(err) : resolve(v))),
        );
        assert.equal(res.status, "SERVING", service);
      }
    } finally {
      client.close();
    }
  });

  it("the shared port speaks gRPC-Web and Connect over HTTP/1.1 too", async () => {
    const baseUrl = `http://127.0.0.1:${ports.grpc}`;
    for (const transport of [
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl, httpVersion: "2" }),
    ]) {
      const status = await createClient(GuildService, transport).getStatus({});
      assert.equal(status.node?.service, "guild");
      assert.equal(status.node?.instanceId, "guild-embedded");
    }
  });

  it("the gateway WebSocket says HELLO, acknowledges heartbeats and rejects garbage with 4002", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${ports.gateway}/?v=10&encoding=json`);
    const messages: { op: number; d?: { heartbeat_interval?: number } }[] = [];
    ws.on("message", (data) => messages.push(JSON.parse(data.toString())));
    await waitFor("HELLO", () => messages.length >= 1);
    assert.equal(messages[0].op, 10);
    assert.equal(messages[0].d?.heartbeat_interval, 1000);
    ws.send(JSON.stringify({ op: 1, d: null }));
    await waitFor("HEARTBEAT_ACK", () => messages.some((m) => m.op === 11));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send("{not json");
    assert.equal(await closed, 4002);
  });
});

describe("start-up configuration errors", () => {
  it("exits with status 2 and names each bad variable", () => {
    const result = spawnSync(process.execPath, [repoPath("launcher/dist/src/embedded.js")], {
      env: { ...process.env, CHORUS_GRPC_PORT: "not-a-port", LOG_LEVEL: "loud" },
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /CHORUS_GRPC_PORT: must be a TCP port number/);
    assert.match(result.stderr, /LOG_LEVEL: /);
  });

  it("a service's own variables are validated the same way", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "chorus-config-"));
    const result = spawnSync(process.execPath, [repoPath("launcher/dist/src/embedded.js")], {
      env: { ...process.env, CHORUS_GRPC_PORT: "0", CHORUS_HTTP_PORT: "0", CHORUS_GATEWAY_PORT: "99999", CHORUS_DATA_DIR: dataDir },
      encoding: "utf8",
      timeout: 20_000,
    });
    rmSync(dataDir, { recursive: true, force: true });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /CHORUS_GATEWAY_PORT: must be between 0 and 65535/);
  });
});
