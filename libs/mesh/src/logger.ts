import { pino, type Logger } from "pino";
import { trace } from "@opentelemetry/api";

export type { Logger };

/** JSON logs on stdout; every line written inside a span carries its trace and span ids. */
export function createLogger(name: string, level = "info", bindings: Record<string, unknown> = {}): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid, ...bindings },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const ctx = span.spanContext();
      return { trace_id: ctx.traceId, span_id: ctx.spanId };
    },
  });
}
