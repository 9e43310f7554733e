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

export function cassandraContactPoints(): string[] {
  return (process.env.CHORUS_CASSANDRA_CONTACT_POINTS ?? "127.0.0.1:9042").split(",").map((s) => s.trim());
}

/** Fails with instructions unless a CQL port answers. */
export async function requireCassandra(): Promise<string[]> {
  const points = cassandraContactPoints();
  const [host, port = "9042"] = points[0].split(":");
  const { connect } = await import("node:net");
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port: Number(port) });
    socket.setTimeout(2000, () => socket.destroy(new Error("timeout")));
    socket.once("connect", () => {
      socket.end();
      resolve();
    });
    socket.once("error", (err) =>
      reject(new Error(`Cassandra is not reachable at ${points[0]} (${err.message}); start it with \`npm run infra -- up cassandra\` (or run the whole suite with \`npm test\`, which starts it)`)),
    );
  });
  return points;
}

/** A registry namespace of its own, so a suite never sees instances of other runs on one etcd. */
export function testNamespace(): string {
  return `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export function redisUrl(): string {
  return process.env.CHORUS_REDIS_URL ?? "redis://127.0.0.1:6379";
}

/** Fails with instructions unless Redis answers PING at CHORUS_REDIS_URL (default redis://127.0.0.1:6379). */
export async function requireRedis(): Promise<string> {
  const url = redisUrl();
  const u = new URL(url);
  const { connect } = await import("node:net");
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`Redis is not reachable at ${url} (${why}); start it with \`npm run infra -- up redis\` (or run the whole suite with \`npm test\`, which starts it)`));
    };
    const socket = connect({ host: u.hostname || "127.0.0.1", port: Number(u.port || 6379) });
    socket.setTimeout(2000, () => fail("timeout"));
    socket.once("error", (err) => fail(err.message));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      if (chunk.toString().startsWith("+PONG") || chunk.toString().startsWith("-NOAUTH")) {
        socket.end();
        resolve();
      } else fail(`unexpected answer ${JSON.stringify(chunk.toString())}`);
    });
  });
  return url;
}
