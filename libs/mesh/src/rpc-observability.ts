import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { rpcMetrics } from "./metrics.js";
import { tracer } from "./telemetry.js";

const headerSetter: TextMapSetter<Headers> = { set: (h, k, v) => h.set(k, v) };
const headerGetter: TextMapGetter<Headers> = {
  get: (h, k) => h.get(k) ?? undefined,
  keys: (h) => [...h.keys()],
};

/** gRPC's own health/reflection protocols are polled constantly; they are counted, not traced. */
const untraced = (typeName: string) => typeName.startsWith("grpc.");

function codeName(code: Code | undefined): string {
  return code === undefined ? "ok" : Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

function spanAttributes(service: string, method: string) {
  return { "rpc.system": "connect_rpc", "rpc.service": service, "rpc.method": method };
}

function endSpan(span: Span | undefined, error: ConnectError | undefined) {
  if (!span) return;
  if (error) {
    span.setAttribute("rpc.connect_rpc.error_code", codeName(error.code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.rawMessage });
  }
  span.end();
}

type Next = Parameters<Interceptor>[0];
type AnyRequest = Parameters<Next>[0];

/**
 * Runs one call inside its span (when traced) and records its metrics. `parent` is the
 * context the span continues: the caller's active context on the client side, the context
 * extracted from the request headers on the server side.
 */
async function observe(side: "client" | "server", next: Next, req: AnyRequest, parent: Context) {
  const service = req.service.typeName;
  const method = req.method.name;
  const kind = side === "client" ? SpanKind.CLIENT : SpanKind.SERVER;
  const span = untraced(service)
    ? undefined
    : tracer().startSpan(`${service}/${method}`, { kind, attributes: spanAttributes(service, method) }, parent);
  const ctx = span ? trace.setSpan(parent, span) : parent;
  // The callee's SERVER span becomes a child of this CLIENT span.
  if (side === "client") propagation.inject(ctx, req.header, headerSetter);
  const requests = side === "client" ? rpcMetrics.clientRequests : rpcMetrics.serverRequests;
  const duration = side === "client" ? rpcMetrics.clientDuration : rpcMetrics.serverDuration;
  const started = performance.now();
  let error: ConnectError | undefined;
  try {
    return await context.with(ctx, () => next(req));
  } catch (e) {
    error = ConnectError.from(e);
    throw e;
  } finally {
    requests.inc({ service, method, code: codeName(error?.code) });
    duration.observe({ service, method }, (performance.now() - started) / 1000);
    endSpan(span, error);
  }
}

/**
 * Client side: a CLIENT span per call, its W3C trace context injected into the request
 * headers, and call metrics.
 */
export function clientObservability(): Interceptor {
  return (next) => (req) => observe("client", next, req, context.active());
}

/**
 * Server side: continues the caller's trace from the request headers, runs the handler inside
 * a SERVER span (so its own outgoing calls become children), and records handler metrics.
 */
export function serverObservability(): Interceptor {
  return (next) => (req) => observe("server", next, req, propagation.extract(ROOT_CONTEXT, req.header, headerGetter));
}
