import client from "prom-client";

/** One Prometheus registry per process; embedded mode shares it between all services. */
export const metricsRegistry = new client.Registry();
client.collectDefaultMetrics({ register: metricsRegistry });

const seconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const rpcMetrics = {
  serverRequests: new client.Counter({
    name: "rpc_server_requests_total",
    help: "RPCs handled, by service, method and status code",
    labelNames: ["service", "method", "code"] as const,
    registers: [metricsRegistry],
  }),
  serverDuration: new client.Histogram({
    name: "rpc_server_duration_seconds",
    help: "Time to handle an RPC (until the response headers for streams)",
    labelNames: ["service", "method"] as const,
    buckets: seconds,
    registers: [metricsRegistry],
  }),
  clientRequests: new client.Counter({
    name: "rpc_client_requests_total",
    help: "RPCs sent to other services, by service, method and status code",
    labelNames: ["service", "method", "code"] as const,
    registers: [metricsRegistry],
  }),
  clientDuration: new client.Histogram({
    name: "rpc_client_duration_seconds",
    help: "Latency of RPCs sent to other services",
    labelNames: ["service", "method"] as const,
    buckets: seconds,
    registers: [metricsRegistry],
  }),
  clientRetries: new client.Counter({
    name: "rpc_client_retries_total",
    help: "Retries of idempotent RPCs after an unavailable instance",
    labelNames: ["service", "method"] as const,
    registers: [metricsRegistry],
  }),
};

export const registryMetrics = {
  instances: new client.Gauge({
    name: "mesh_registry_instances",
    help: "Live instances seen in the service registry, by service",
    labelNames: ["service"] as const,
    registers: [metricsRegistry],
  }),
  registered: new client.Gauge({
    name: "mesh_registry_registered",
    help: "1 while this process holds a live registration for the service",
    labelNames: ["service", "instance"] as const,
    registers: [metricsRegistry],
  }),
  leaseRenewals: new client.Counter({
    name: "mesh_registry_lease_lost_total",
    help: "Registry leases lost and re-established",
    labelNames: ["service"] as const,
    registers: [metricsRegistry],
  }),
};
