import client from "prom-client";
import { metricsRegistry } from "@chorus/mesh";

/** What the gauges read when Prometheus scrapes: every live pipeline of the process. */
export interface PipelineGauges {
  depthByPriority(): number[];
  capacity(): number;
  sinks(): { provider: string; sink: string; inFlight: number }[];
}

const pipelines = new Set<PipelineGauges>();

/** Registers a pipeline with the gauges until the returned function is called. */
export function watchPipeline(pipeline: PipelineGauges): () => void {
  pipelines.add(pipeline);
  return () => pipelines.delete(pipeline);
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export const pushMetrics = {
  bufferDepth: new client.Gauge({
    name: "push_buffer_depth",
    help: "Push requests waiting in the source buffer, by priority",
    labelNames: ["priority"] as const,
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const p of pipelines) p.depthByPriority().forEach((n, i) => this.inc({ priority: i === 0 ? "high" : "low" }, n));
    },
  }),
  bufferCapacity: new client.Gauge({
    name: "push_buffer_capacity",
    help: "Capacity of the source buffer",
    registers: [metricsRegistry],
    collect() {
      let total = 0;
      for (const p of pipelines) total += p.capacity();
      this.set(total);
    },
  }),
  inFlight: new client.Gauge({
    name: "push_sink_in_flight",
    help: "Push requests a sink holds (sent, or waiting to be retried), by provider and sink",
    labelNames: ["provider", "sink"] as const,
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const p of pipelines) for (const s of p.sinks()) this.set({ provider: s.provider, sink: s.sink }, s.inFlight);
    },
  }),
  sent: new client.Counter({
    name: "push_sent_total",
    help: "Pushes the provider accepted, by provider and priority",
    labelNames: ["provider", "priority"] as const,
    registers: [metricsRegistry],
  }),
  failed: new client.Counter({
    name: "push_failed_total",
    help: "Pushes given up, by provider, priority and reason (gone: dead device; rejected; retries: attempts exhausted)",
    labelNames: ["provider", "priority", "reason"] as const,
    registers: [metricsRegistry],
  }),
  retried: new client.Counter({
    name: "push_retried_total",
    help: "Push attempts retried after a 429, a 5xx or a lost connection, by provider and priority",
    labelNames: ["provider", "priority"] as const,
    registers: [metricsRegistry],
  }),
  shed: new client.Counter({
    name: "push_shed_total",
    help: "Push requests dropped because the source buffer was full, by provider and priority",
    labelNames: ["provider", "priority"] as const,
    registers: [metricsRegistry],
  }),
  devicesRemoved: new client.Counter({
    name: "push_devices_removed_total",
    help: "Devices removed because their provider said they no longer exist, by provider",
    labelNames: ["provider"] as const,
    registers: [metricsRegistry],
  }),
  latency: new client.Histogram({
    name: "push_latency_seconds",
    help: "From the push service accepting a push to its provider accepting it, by provider and priority",
    labelNames: ["provider", "priority"] as const,
    buckets: latencyBuckets,
    registers: [metricsRegistry],
  }),
  notified: new client.Counter({
    name: "push_notify_recipients_total",
    help: "Recipients of Notify calls, by result (queued: pushes for their devices were offered; no_devices; muted; online)",
    labelNames: ["result"] as const,
    registers: [metricsRegistry],
  }),
};
