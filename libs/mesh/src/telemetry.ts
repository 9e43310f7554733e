import { NodeSDK, resources, tracing } from "@opentelemetry/sdk-node";
import { trace, type Tracer } from "@opentelemetry/api";

export interface Telemetry {
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;

/**
 * Starts OpenTelemetry tracing for this process. Spans always exist (their ids go into logs
 * and into the W3C `traceparent` header of every mesh call), but they are exported only when
 * the standard OTEL_* variables ask for it: OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT
 * or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. OTEL_SDK_DISABLED=true turns everything off.
 */
export function startTelemetry(serviceName: string, instanceId: string): Telemetry {
  if (started) return started;
  const env = process.env;
  // Chorus exposes metrics through prom-client and logs through pino; the SDK's own metric
  // and log exporters stay off unless explicitly configured.
  env.OTEL_METRICS_EXPORTER ??= "none";
  env.OTEL_LOGS_EXPORTER ??= "none";
  const exporting = Boolean(
    env.OTEL_TRACES_EXPORTER || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  );
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ? undefined : `chorus-${serviceName}`,
    resource: resources.resourceFromAttributes({ "service.instance.id": instanceId }),
    instrumentations: [],
    // Without an exporter we still want a real tracer provider, so a no-op processor.
    spanProcessors: exporting ? undefined : [new tracing.NoopSpanProcessor()],
  });
  sdk.start();
  started = {
    async shutdown() {
      await sdk.shutdown().catch(() => undefined);
    },
  };
  return started;
}

export function tracer(): Tracer {
  return trace.getTracer("chorus-mesh");
}
