// One request crosses two service processes; both export their spans over OTLP (configured
// only by the standard OTEL_* variables) and the spans form one trace with correct links.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { freePort, OtlpReceiver, requireEtcd, startServiceProcess, testNamespace, waitFor, type ReceivedSpan, type ServiceProcess } from "@chorus/testing";

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

describe("distributed tracing across services", () => {
  const receiver = new OtlpReceiver();
  const processes: ServiceProcess[] = [];
  let api: ServiceProcess;

  before(async () => {
    const endpoints = await requireEtcd();
    const otlp = await receiver.start();
    const env = {
      CHORUS_ETCD_ENDPOINTS: endpoints.join(","),
      CHORUS_REGISTRY_NAMESPACE: testNamespace(),
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
      OTEL_BSP_SCHEDULE_DELAY: "100",
    };
    const guild = await startServiceProcess("guild", env);
    api = await startServiceProcess("api", { ...env, CHORUS_HTTP_PORT: String(await freePort()) });
    processes.push(guild, api);
    await waitFor("api to see the guild instance", async () => {
      const res = await fetch(api.urls.healthz);
      const body = (await res.json()) as { services: { guild: { healthy_instances: number } } };
      return body.services.guild.healthy_instances === 1;
    });
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill("SIGTERM")));
    await receiver.stop();
  });

  it("api → guild spans share the caller's trace with parent/child links", async () => {
    // The caller (this test) starts the trace, as a traced client would.
    const traceId = randomBytes(16).toString("hex");
    const rootSpanId = randomBytes(8).toString("hex");
    const res = await fetch(`${api.urls.http}/chorus.api.v1.ServerService/GetServerInfo`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${traceId}-${rootSpanId}-01` },
      body: "{}",
    });
    assert.equal(res.status, 200);

    const inTrace = (name: string, kind: number, service: string) => (s: ReceivedSpan) =>
      s.traceId === traceId && s.name === name && s.kind === kind && s.serviceName === service;
    const spans = await waitFor("the spans of both services", () => {
      const edge = receiver.spans.find(inTrace("chorus.api.v1.ServerService/GetServerInfo", SPAN_KIND_SERVER, "chorus-api"));
      const call = receiver.spans.find(inTrace("chorus.guild.v1.GuildService/GetStatus", SPAN_KIND_CLIENT, "chorus-api"));
      const handler = receiver.spans.find(inTrace("chorus.guild.v1.GuildService/GetStatus", SPAN_KIND_SERVER, "chorus-guild"));
      return edge && call && handler ? { edge, call, handler } : undefined;
    });
    assert.equal(spans.edge.parentSpanId, rootSpanId, "the api's server span continues the caller's trace");
    assert.equal(spans.call.parentSpanId, spans.edge.spanId, "the outgoing call is a child of the api handler");
    assert.equal(spans.handler.parentSpanId, spans.call.spanId, "the guild handler is a child of the api's call");
  });
});
