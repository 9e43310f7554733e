import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
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

/**
 * Client side: a CLIENT span per call, its W3C trace context injected into the request
 * headers (so the callee's SERVER span becomes its child), and call metrics.
 */
export function clientObservability(): Interceptor {
  return (next) => async (req) => {
    const service = req.service.typeName;
    const method = req.method.name;
    const span = untraced(service)
      ? undefined
      : tracer().startSpan(`${service}/${method}`, { kind: SpanKind.CLIENT, attributes: spanAttributes(service, method) });
    const ctx = span ? trace.setSpan(context.active(), span) : context.active();
    propagation.inject(ctx, req.header, headerSetter);
    const started = performance.now();
    let error: ConnectError | undefined;
    try {
      return await context.with(ctx, () => next(req));
    } catch (e) {
      error = ConnectError.from(e);
      throw e;
    } finally {
      rpcMetrics.clientRequests.inc({ service, method, code: codeName(error?.code) });
      rpcMetrics.clientDuration.observe({ service, method }, (performance.now() - started) / 1000);
      endSpan(span, error);
    }
  };
}

/**
 * Server side: continues the caller's trace from the request headers, runs the handler inside
 * a SERVER span (so its own outgoing calls become children), and records handler metrics.
 */
export function serverObservability(): Interceptor {
  return (next) => async (req) => {
    const service = req.service.typeName;
    const method = req.method.name;
    const parent = propagation.extract(ROOT_CONTEXT, req.header, headerGetter);
    const span = untraced(service)
      ? undefined
      : tracer().startSpan(`${service}/${method}`, { kind: SpanKind.SERVER, attributes: spanAttributes(service, method) }, parent);
    const ctx = span ? trace.setSpan(parent, span) : parent;
    const started = performance.now();
    let error: ConnectError | undefined;
    try {
      return await context.with(ctx, () => next(req));
    } catch (e) {
      error = ConnectError.from(e);
      throw e;
    } finally {
      rpcMetrics.serverRequests.inc({ service, method, code: codeName(error?.code) });
      rpcMetrics.serverDuration.observe({ service, method }, (performance.now() - started) / 1000);
      endSpan(span, error);
    }
  };
}
