// Shared helpers for the local-infrastructure scripts (node: builtins only).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, rmSync, linkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// Repo root from this file's location, so the scripts work from any cwd.
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `.chorus/infra/<name>` (created on demand): holds the pid file, the log and the data. */
export function componentDir(name) {
  const dir = join(REPO_ROOT, '.chorus', 'infra', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function envPort(variable, fallback) {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${variable}=${raw} is not a valid port`);
  return port;
}

/**
 * Start a long-running process that outlives this Node process: own session
 * (detached => setsid), stdout+stderr appended to `logFile`, not awaited (unref).
 */
export function spawnDaemon(command, args, { logFile, cwd, env = process.env }) {
  const fd = openSync(logFile, 'a');
  try {
    writeFileSync(fd, `\n--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => {}); // reported below via the missing pid / the readiness wait
    if (!child.pid) throw new Error(`could not start ${command} (see ${logFile})`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd); // the child keeps its own copy of the descriptor
  }
}

/** Pid file: the pid on line 1, an optional note (e.g. the endpoint) on line 2. */
export function writePid(file, pid, note = '') {
  writeFileSync(file, `${pid}\n${note}\n`);
}

/** The pid recorded in `file`, or undefined when there is none. */
export function readPid(file) {
  const pid = Number(readPidNote(file, 0));
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function readPidNote(file, line = 1) {
  try {
    return readFileSync(file, 'utf8').split('\n')[line]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

export function removePid(file) {
  rmSync(file, { force: true });
}

/**
 * True if `pid` is a live (non-zombie) process; with `expect`, its command line
 * must also contain that string, so a recycled pid is never mistaken for ours.
 */
export function isAlive(pid, expect) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    // "pid (comm) S ..." — a zombie (Z) has exited but is not yet reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return false;
    if (expect && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(expect)) return false;
  } catch {
    // no /proc (not Linux): trust kill(0)
  }
  return true;
}

/**
 * Run `fn` holding an exclusive lock file, so concurrent `up`/`down` calls (e.g.
 * parallel test files) never start two servers. A lock whose holder died is taken over.
 */
let lockSeq = 0;
export async function withLock(file, fn, { timeoutMs = 120_000 } = {}) {
  const mine = `${file}.${process.pid}.${++lockSeq}`; // unique even for concurrent calls in one process
  writePid(mine, process.pid);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        linkSync(mine, file); // atomic: fails with EEXIST while someone holds the lock
        break;
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
        if (!isAlive(readPid(file))) rmSync(file, { force: true });
        else if (Date.now() > deadline) throw new Error(`timed out waiting for ${file} (held by pid ${readPid(file)})`);
        else await sleep(200);
      }
    }
  } finally {
    rmSync(mine, { force: true });
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

/** SIGTERM, wait up to `timeoutMs`, then SIGKILL. Resolves once the process is gone. */
export async function stopPid(pid, { timeoutMs = 10_000 } = {}) {
  if (!isAlive(pid)) return;
  const signal = (sig) => {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if (err.code !== 'ESRCH') throw err;
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  signal('SIGKILL');
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
}

/**
 * Poll the async `probe` until it returns truthy. Fails early if `pid` dies
 * (the log tail is the most useful error then), else after `timeoutMs`.
 */
export async function waitUntilReady(probe, { what, timeoutMs = 30_000, intervalMs = 200, pid, logFile } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (pid && !isAlive(pid)) throw new Error(`${what} exited during startup${logTail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000}s${logTail(logFile)}`);
    await sleep(intervalMs);
  }
}

function logTail(logFile, lines = 8) {
  if (!logFile || !existsSync(logFile)) return '';
  const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n  ');
  return `; last lines of ${logFile}:\n  ${tail}`;
}

let aptUpdated = false;

/**
 * Install a Debian package unless `binary` is already there. The apt output
 * goes to stderr so the CLI's stdout stays one line per component.
 */
export function ensureDebianPackage(pkg, binary) {
  if (existsSync(binary)) return;
  const run = (args) => {
    // Lock::Timeout: wait for a concurrent apt/dpkg instead of failing at once.
    const res = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (res.error || res.status !== 0) {
      const why = res.error ? res.error.message : `exit code ${res.status}`;
      throw new Error(`apt-get ${args.join(' ')} failed (${why}); install ${pkg} by hand (needs root)`);
    }
  };
  process.stderr.write(`[infra] ${binary} missing: installing Debian package ${pkg}\n`);
  if (!aptUpdated) {
    run(['update']);
    aptUpdated = true;
  }
  run(['install', '-y', '-q', '--no-install-recommends', pkg]);
  if (!existsSync(binary)) throw new Error(`package ${pkg} is installed but ${binary} is still missing`);
}

/** True if something accepts TCP connections on host:port. */
export function probeTcp(host, port, timeoutMs = 1000) {
  return new Promise((done) => {
    const socket = net.connect({ host, port });
    const finish = (ok) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Build the `{ name, up, down, status }` component interface for a daemon run
 * from the Debian package `pkg` (installed on demand when `binary` is missing).
 * `configure()` is called on every use (so env changes made after import are seen) and returns
 *   { args, spawnEnv?, port, portVariable, endpoint, env, healthy(), readyTimeoutMs? }
 * or, for a user-provided server that is only probed, { external: { variable, endpoint, env, healthy() } }.
 */
export function daemonComponent({ name, pkg, binary }, configure) {
  const files = () => {
    const dir = componentDir(name);
    return { dir, pidFile: join(dir, `${name}.pid`), logFile: join(dir, `${name}.log`), lockFile: join(dir, 'lock') };
  };
  const command = binary.split('/').pop(); // what /proc/<pid>/cmdline of our process contains

  async function up() {
    const c = configure();
    if (c.external) {
      const { variable, endpoint, env, healthy } = c.external;
      if (!(await healthy().catch(() => false))) throw new Error(`${name}: ${variable}=${endpoint} is set but does not answer`);
      return { endpoint, env, startedByUs: false, external: true };
    }
    return withLock(files().lockFile, () => startOrReuse(c));
  }

  async function startOrReuse(c) {
    const result = (startedByUs, pid) => ({ endpoint: c.endpoint, env: c.env, startedByUs, pid });
    const { dir, pidFile, logFile } = files();
    const what = `${name} on ${c.endpoint}`;
    const timeoutMs = c.readyTimeoutMs ?? 30_000;

    const pid = readPid(pidFile);
    if (isAlive(pid, command)) {
      const running = readPidNote(pidFile);
      if (running && running !== c.endpoint) {
        throw new Error(`${name} started by these scripts runs on ${running} (pid ${pid}); "node scripts/infra.mjs down ${name}" first to use ${c.endpoint}`);
      }
      // Ours and running (possibly still starting): reuse it.
      await waitUntilReady(c.healthy, { what, pid, logFile, timeoutMs });
      return result(false, pid);
    }
    if (pid) removePid(pidFile); // stale: that process is gone
    if (await c.healthy().catch(() => false)) return result(false); // someone else's server: share it
    if (await probeTcp('127.0.0.1', c.port)) {
      throw new Error(`${name}: port ${c.port} is taken by something that is not ${name}; set ${c.portVariable} to a free port`);
    }

    ensureDebianPackage(pkg, binary);
    const newPid = spawnDaemon(binary, c.args, { logFile, cwd: dir, env: { ...process.env, ...c.spawnEnv } });
    writePid(pidFile, newPid, c.endpoint);
    try {
      await waitUntilReady(c.healthy, { what, pid: newPid, logFile, timeoutMs });
    } catch (err) {
      await stopPid(newPid);
      removePid(pidFile);
      throw err;
    }
    return result(true, newPid);
  }

  /** Stop only the process our pid file names. */
  async function down() {
    const { pidFile, lockFile } = files();
    return withLock(lockFile, async () => {
      const pid = readPid(pidFile);
      const alive = isAlive(pid, command);
      if (alive) await stopPid(pid);
      removePid(pidFile);
      return { stopped: alive, pid: alive ? pid : undefined };
    });
  }

  async function status() {
    const c = configure();
    if (c.external) {
      const healthy = await c.external.healthy().catch(() => false);
      return { endpoint: c.external.endpoint, healthy, state: 'external' };
    }
    const pid = readPid(files().pidFile);
    const ours = isAlive(pid, command);
    const healthy = await c.healthy().catch(() => false);
    // 'foreign': healthy, but not started by these scripts (e.g. a system service).
    const state = ours ? (healthy ? 'running' : 'unhealthy') : healthy ? 'foreign' : 'stopped';
    return { endpoint: c.endpoint, healthy, state, pid: ours ? pid : undefined };
  }

  return { name, up, down, status };
}
