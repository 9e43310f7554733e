import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { repoPath } from "./repo.js";

export interface ServiceProcess {
  readonly service: string;
  readonly pid: number;
  /** host:port of its gRPC endpoint, from its "service started" log line. */
  readonly address: string;
  readonly instanceId: string;
  readonly urls: Record<string, string>;
  /** Every stdout/stderr line so far, for assertions and failure messages. */
  readonly output: string[];
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => running.forEach((c) => c.kill("SIGKILL")));

/**
 * Starts services/<service>/dist/src/main.js as its own process (cluster mode) and resolves
 * once it logged "service started". Fails with the process's output if it exits or stalls.
 */
export async function startServiceProcess(
  service: string,
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [repoPath("services", service, "dist/src/main.js")], {
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  createInterface({ input: child.stderr! }).on("line", (line) => output.push(line));
  const started = new Promise<{ address: string; instance: string; urls: Record<string, string> }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; address?: string; instance?: string; urls?: Record<string, string> };
        if (entry.msg === "service started" && entry.address && entry.instance) {
          resolve({ address: entry.address, instance: entry.instance, urls: entry.urls ?? {} });
        }
      } catch {
        /* not a log line */
      }
    });
    void exited.then((code) => reject(new Error(`${service} exited (${code}) before starting:\n${output.join("\n")}`)));
    setTimeout(() => reject(new Error(`${service} did not start within ${timeoutMs} ms:\n${output.join("\n")}`)), timeoutMs).unref();
  });
  let info;
  try {
    info = await started;
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    service,
    pid: child.pid!,
    address: info.address,
    instanceId: info.instance,
    urls: info.urls,
    output,
    exited,
    async kill(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a command to completion, collecting its output. */
export async function runProcess(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
