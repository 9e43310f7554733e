/**
 * Integration tests need real servers. These checks fail loudly, naming how to start them,
 * instead of letting a suite pass without its server.
 */
const HOW = "start it with `npm run infra -- up` (or run the whole suite with `npm test`, which starts it)";

export function etcdEndpoints(): string[] {
  return (process.env.CHORUS_ETCD_ENDPOINTS ?? "http://127.0.0.1:2379").split(",").map((s) => s.trim());
}

export async function requireEtcd(): Promise<string[]> {
  const endpoints = etcdEndpoints();
  const url = `${endpoints[0].replace(/\/$/, "")}/health`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { health?: string };
    if (body.health !== "true") throw new Error(`unhealthy: ${JSON.stringify(body)}`);
  } catch (err) {
    throw new Error(`etcd is not reachable at ${endpoints[0]} (${(err as Error).message}); ${HOW}`);
  }
  return endpoints;
}
