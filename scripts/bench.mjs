#!/usr/bin/env node
// `npm run bench -- <scenario> [options] [--json FILE]`: makes the checkout runnable (install
// if needed, build), brings up the infrastructure the scenario needs (reusing what already
// runs), runs loadtest/dist/src/bench.js with that environment, and stops what it started.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import { setup, root } from './setup.mjs';
import { infraDown, infraUp } from './infra.mjs';

/** Infrastructure each scenario needs (scripts/infra/<name>.mjs components). */
const INFRA = {
  storage: ['etcd', 'cassandra'],
  // The Chorus cluster it starts; with --target (a server that already runs) nothing.
  fanout: ['etcd', 'redis', 'cassandra'],
};

const args = process.argv.slice(2);
const scenario = args[0] && !args[0].startsWith('-') ? args[0] : undefined;
const helpOnly = !scenario || args.includes('--help') || args.includes('-h');

setup({ native: 'required' });

let infra = { env: {}, started: [], components: {} };
const targetsRunningServer = args.some((a) => a === '--target' || a.startsWith('--target='));
const needs = helpOnly || targetsRunningServer ? [] : (INFRA[scenario] ?? []);
if (needs.length) {
  // A Cassandra started here runs with the full C2 JIT: steadier numbers than the fast-start
  // (C1 only) default of the test suites. A Cassandra that already runs is reused as it is.
  process.env.CHORUS_CASSANDRA_FAST_START ??= '0';
  infra = await infraUp(needs);
  for (const [name, r] of Object.entries(infra.components)) {
    console.error(`bench: ${name} ${r.endpoint} (${r.external ? 'external' : r.startedByUs ? 'started' : 'reused'})`);
  }
}

// Pids of local infrastructure, so scenarios can report the database's CPU time.
const pids = Object.fromEntries(
  Object.entries(infra.components).filter(([, r]) => Number.isInteger(r.pid) && !r.external).map(([name, r]) => [name, r.pid]),
);

let code = 1;
try {
  const child = spawn(process.execPath, [join(root, 'loadtest', 'dist', 'src', 'bench.js'), ...args], {
    cwd: root,
    env: { ...process.env, ...infra.env, CHORUS_BENCH_INFRA_PIDS: JSON.stringify(pids) },
    stdio: 'inherit',
  });
  // Ctrl-C reaches the child through the terminal's process group; a kill of this script alone is passed on.
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? 128 + (constants.signals[signal] ?? 0))));
} finally {
  if (infra.started.length) {
    const stopped = await infraDown(infra.started);
    for (const [name, r] of Object.entries(stopped)) if (r.stopped) console.error(`bench: stopped ${name} (pid ${r.pid})`);
  }
}
process.exit(code);
