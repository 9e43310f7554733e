import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import client from "prom-client";
import { metricsRegistry } from "./metrics.js";

const inflightGauge = new client.Gauge({
  name: "rpc_server_inflight",
  help: "RPCs being handled right now",
  registers: [metricsRegistry],
});
const rejected = new client.Counter({
  name: "rpc_server_rejected_total",
  help: "RPCs refused with RESOURCE_EXHAUSTED because too many were in flight",
  labelNames: ["service"] as const,
  registers: [metricsRegistry],
});

/**
 * Bounded concurrency per server. Past `limit` calls in flight, new calls are refused at once
 * with RESOURCE_EXHAUSTED instead of queueing until their deadline: an overloaded instance
 * answers cheaply, and callers do not cancel thousands of expired streams — which Node's
 * HTTP/2 rapid-reset protection (about 1000 resets, then 33/s) punishes by closing the whole
 * connection with every call on it. gRPC's own health and reflection calls are always let in.
 */
export function admissionControl(limit: number): Interceptor {
  let inflight = 0;
  return (next) => async (req) => {
    const service = req.service.typeName;
    if (service.startsWith("grpc.")) return next(req);
    if (inflight >= limit) {
      rejected.inc({ service });
      throw new ConnectError(`overloaded: ${inflight} calls in flight (limit ${limit})`, Code.ResourceExhausted);
    }
    inflight++;
    inflightGauge.inc();
    try {
      return await next(req);
    } finally {
      inflight--;
      inflightGauge.dec();
    }
  };
}
