// Redis's own per-command counters (INFO commandstats: calls and CPU µs per command), read over
// a plain RESP connection, so the fan-out benchmark can say what the gateways' session store
// did in each stage (e.g. how many delivery scripts ran, for how long).
import { connect } from "node:net";

export type CommandStats = Record<string, { calls: number; usec: number }>;

/** INFO commandstats of the Redis at `url` (redis://host:port); undefined when it cannot be read. */
export async function redisCommandStats(url: string, timeoutMs = 3000): Promise<CommandStats | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname || "127.0.0.1", port: Number(u.port || 6379) });
    let text = "";
    const done = (value: CommandStats | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once("error", () => done(undefined));
    socket.once("connect", () => {
      const auth = u.password ? `AUTH ${u.username ? `${decodeURIComponent(u.username)} ` : ""}${decodeURIComponent(u.password)}\r\n` : "";
      socket.write(`${auth}INFO commandstats\r\n`);
    });
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      const bulk = /\$(\d+)\r\n/.exec(text);
      if (!bulk) return;
      const start = bulk.index + bulk[0].length;
      if (text.length - start < Number(bulk[1])) return;
      const stats: CommandStats = {};
      for (const m of text.slice(start, start + Number(bulk[1])).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
        stats[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
      }
      done(stats);
    });
  });
}

/** What ran between two snapshots: the commands with the most CPU time first. */
export function commandStatsDelta(before: CommandStats | undefined, after: CommandStats | undefined): { command: string; calls: number; cpuSeconds: number }[] {
  if (!before || !after) return [];
  return Object.entries(after)
    .map(([command, a]) => ({ command, calls: a.calls - (before[command]?.calls ?? 0), cpuSeconds: Math.round((a.usec - (before[command]?.usec ?? 0)) / 1e4) / 100 }))
    .filter((d) => d.calls > 0)
    .sort((x, y) => y.cpuSeconds - x.cpuSeconds);
}

export function formatCommandStats(delta: ReturnType<typeof commandStatsDelta>, top = 4): string {
  if (delta.length === 0) return "nothing";
  return delta
    .slice(0, top)
    .map((d) => `${d.command} ${d.calls} calls ${d.cpuSeconds.toFixed(2)} s`)
    .join(", ");
}
