import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./ports.js";
import { repoPath } from "./repo.js";

export interface EmbeddedChorusProcess {
  readonly ports: { http: number; gateway: number; grpc: number };
  readonly dataDir: string;
  /** Everything it printed so far. */
  output(): string;
  stop(): void;
}

/**
 * Starts `npm start`'s process (launcher/dist/src/embedded.js) on free ports with its data in
 * a temp folder, and resolves once it printed its URLs.
 */
export async function startEmbeddedChorus(env: Record<string, string> = {}): Promise<EmbeddedChorusProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "chorus-embedded-"));
  const ports = { http: await freePort(), gateway: await freePort(), grpc: await freePort() };
  let output = "";
  const child = spawn(process.execPath, [repoPath("launcher/dist/src/embedded.js")], {
    env: {
      ...process.env,
      // No etcd, Redis or database server: embedded mode must not need them.
      CHORUS_ETCD_ENDPOINTS: "http://127.0.0.1:1",
      CHORUS_HTTP_PORT: String(ports.http),
      CHORUS_GATEWAY_PORT: String(ports.gateway),
      CHORUS_GRPC_PORT: String(ports.grpc),
      CHORUS_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const stop = () => {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor("embedded Chorus to print its URLs", () => output.includes("Chorus is running"), 20_000);
  } catch (err) {
    stop();
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return { ports, dataDir, output: () => output, stop };
}
