// Every service, each in its own process on a real etcd, answers standard gRPC tooling that
// knows nothing of Chorus's generated code: grpc-js with the health proto, server reflection
// decoded with protobufjs, and `buf curl`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { freePort, repoPath, requireEtcd, runProcess, startServiceProcess, testNamespace, waitFor, type ServiceProcess } from "@chorus/testing";

const SERVICES = {
  api: "chorus.api.v1.ServerService",
  guild: "chorus.guild.v1.GuildService",
  relay: "chorus.relay.v1.RelayService",
  gateway: "chorus.gateway.v1.GatewayService",
  push: "chorus.push.v1.PushService",
  voice: "chorus.voice.v1.VoiceService",
  storage: "chorus.storage.v1.StorageService",
  search: "chorus.search.v1.SearchService",
} as const;

/** google.protobuf.FileDescriptorProto as protobufjs ships it, independent of Chorus's code. */
const fileDescriptorProto = (descriptor as unknown as { FileDescriptorProto: protobuf.Type }).FileDescriptorProto;

function loadProto(file: string): grpc.GrpcObject {
  const definition = protoLoader.loadSync(file, { includeDirs: [repoPath("proto")], keepCase: true, defaults: true, enums: String });
  return grpc.loadPackageDefinition(definition);
}

function healthClient(address: string) {
  const pkg = loadProto("grpc/health/v1/health.proto") as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
}

function check(client: grpc.Client, service: string): Promise<{ status: string }> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: object, cb: (e: Error | null, v: { status: string }) => void) => void>).Check(
      { service },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
}

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One request/response exchange on the bidirectional reflection stream. */
function reflect(address: string, request: object): Promise<ReflectionResponse> {
  const pkg = loadProto("grpc/reflection/v1/reflection.proto") as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure()) as unknown as {
    ServerReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionResponse>;
    close(): void;
  };
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on("data", (res: ReflectionResponse) => {
      resolve(res);
      call.end();
    });
    call.on("error", reject);
    call.on("end", () => client.close());
    call.write(request);
  });
}

describe("standard gRPC tooling against every service (cluster mode)", () => {
  const processes: Record<string, ServiceProcess> = {};

  before(async () => {
    const endpoints = await requireEtcd();
    const env = { CHORUS_ETCD_ENDPOINTS: endpoints.join(","), CHORUS_REGISTRY_NAMESPACE: testNamespace() };
    const httpPort = String(await freePort());
    const gatewayPort = String(await freePort());
    const started = await Promise.all(
      Object.keys(SERVICES).map((name) =>
        startServiceProcess(name, { ...env, CHORUS_HTTP_PORT: httpPort, CHORUS_GATEWAY_PORT: gatewayPort }),
      ),
    );
    for (const p of started) processes[p.service] = p;
  });

  after(async () => {
    await Promise.all(Object.values(processes).map((p) => p.kill("SIGTERM")));
  });

  it("grpc-js health checks: the server and its contract are SERVING, unknown names are NOT_FOUND", async () => {
    for (const [name, contract] of Object.entries(SERVICES)) {
      const client = healthClient(processes[name].address);
      try {
        assert.equal((await check(client, "")).status, "SERVING", `${name} overall`);
        assert.equal((await check(client, contract)).status, "SERVING", `${name} ${contract}`);
        await assert.rejects(check(client, "no.such.Service"), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
      } finally {
        client.close();
      }
    }
  });

  it("grpc-js reflection: lists each contract and returns a descriptor that describes it", async () => {
    for (const [name, contract] of Object.entries(SERVICES)) {
      const address = processes[name].address;
      const listed = await reflect(address, { list_services: "" });
      const names = listed.list_services_response!.service.map((s) => s.name);
      assert.ok(names.includes(contract), `${name} lists ${contract}: ${names.join(", ")}`);
      assert.ok(names.includes("grpc.health.v1.Health"));

      const files = await reflect(address, { file_containing_symbol: contract });
      const protos = files.file_descriptor_response!.file_descriptor_proto.map(
        (bytes) => fileDescriptorProto.decode(bytes) as unknown as {
          package: string;
          service: { name: string; method: { name: string }[] }[];
        },
      );
      const serviceName = contract.split(".").pop();
      const file = protos.find((f) => f.service.some((s) => s.name === serviceName));
      assert.ok(file, `descriptor for ${contract}`);
      const methods = file.service.find((s) => s.name === serviceName)!.method.map((m) => m.name);
      assert.ok(methods.length > 0, `${contract} has methods`);
      assert.ok(
        protos.some((f) => f.package === "chorus.mesh.v1") || name === "api",
        `${contract}'s imports are included`,
      );

      const missing = await reflect(address, { file_containing_symbol: "no.such.Symbol" });
      assert.equal(missing.error_response?.error_code, grpc.status.NOT_FOUND);
    }
  });

  it("buf curl calls a service through reflection over h2c", async () => {
    const buf = repoPath("node_modules/.bin/buf");
    for (const name of ["guild", "storage"] as const) {
      const res = await runProcess(buf, [
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        `http://${processes[name].address}/${SERVICES[name]}/GetStatus`,
      ]);
      assert.equal(res.code, 0, res.stderr);
      const body = JSON.parse(res.stdout) as { node: { service: string; instanceId: string } };
      assert.equal(body.node.service, name);
      assert.equal(body.node.instanceId, processes[name].instanceId);
    }
  });

  it("each service exposes Prometheus metrics over HTTP/1.1 on its mesh port", async () => {
    for (const name of Object.keys(SERVICES)) {
      const res = await fetch(`http://${processes[name].address}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /^mesh_registry_instances\{service="guild"\} 1$/m, `${name} sees the guild instance`);
      assert.match(text, /^# TYPE rpc_server_duration_seconds histogram$/m);
      assert.match(text, /^process_resident_memory_bytes /m);
    }
  });

  it("the api's /healthz reports all eight services SERVING", async () => {
    const url = processes.api.urls.healthz;
    const body = await waitFor("healthz ok", async () => {
      const res = await fetch(url);
      const json = (await res.json()) as { status: string; services: Record<string, { status: string; instances: number }> };
      return res.status === 200 ? json : undefined;
    });
    assert.equal(body.status, "ok");
    assert.deepEqual(Object.keys(body.services).sort(), Object.keys(SERVICES).sort());
    for (const s of Object.values(body.services)) assert.equal(s.status, "SERVING");
    // api's rpc counters now include the GetStatus calls it made to the others.
    const metrics = await (await fetch(`http://${processes.guild.address}/metrics`)).text();
    assert.match(metrics, /^rpc_server_requests_total\{service="chorus.guild.v1.GuildService",method="GetStatus",code="ok"\} [1-9]/m);
  });
});
