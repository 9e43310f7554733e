import { metricsRegistry } from "./metrics.js";
import type { HttpRoute } from "./mesh-server.js";

/** GET /metrics in Prometheus text format. */
export const metricsRoute: HttpRoute = async (req, res) => {
  if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") return false;
  const body = await metricsRegistry.metrics();
  res.writeHead(200, { "content-type": metricsRegistry.contentType });
  res.end(body);
  return true;
};
