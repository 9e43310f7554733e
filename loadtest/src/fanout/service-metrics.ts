// The mesh's RPC counters of a Chorus process (GET /metrics on its gRPC port, prom-client text):
// calls handled per method and their total time, so the fan-out benchmark can show how many RPCs
// one message costs and how long each hop takes.

export type RpcCounters = Record<string, { calls: number; seconds: number }>;

const SERVER_COUNT = /^rpc_server_duration_seconds_count\{([^}]*)\} (\S+)$/gm;
const SERVER_SUM = /^rpc_server_duration_seconds_sum\{([^}]*)\} (\S+)$/gm;

function labelsKey(labels: string): string {
  const service = /service="([^"]*)"/.exec(labels)?.[1] ?? "?";
  const method = /method="([^"]*)"/.exec(labels)?.[1] ?? "?";
  return `${service.replace(/^chorus\./, "").replace(/\.v1\./, ".")}/${method}`;
}

/** Server-side RPC counts and summed durations of the process whose gRPC endpoint is `address`. */
export async function rpcCounters(address: string): Promise<RpcCounters | undefined> {
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    const out: RpcCounters = {};
    for (const m of text.matchAll(SERVER_COUNT)) (out[labelsKey(m[1])] ??= { calls: 0, seconds: 0 }).calls += Number(m[2]);
    for (const m of text.matchAll(SERVER_SUM)) (out[labelsKey(m[1])] ??= { calls: 0, seconds: 0 }).seconds += Number(m[2]);
    return out;
  } catch {
    return undefined;
  }
}

export interface RpcDelta {
  method: string;
  calls: number;
  /** Mean time the server took per call, ms. */
  meanMs: number;
}

export function rpcDelta(before: RpcCounters | undefined, after: RpcCounters | undefined): RpcDelta[] {
  if (!before || !after) return [];
  return Object.entries(after)
    .map(([method, a]) => {
      const calls = a.calls - (before[method]?.calls ?? 0);
      const seconds = a.seconds - (before[method]?.seconds ?? 0);
      return { method, calls, meanMs: calls > 0 ? Math.round((seconds / calls) * 1e5) / 100 : 0 };
    })
    .filter((d) => d.calls > 0 && !/Health|Reflection|GetStatus/.test(d.method))
    .sort((x, y) => y.calls - x.calls);
}
