#!/usr/bin/env node
// `npm test`: install if needed, build, bring up the local infrastructure the integration
// tests need (etcd, Redis) on 127.0.0.1, run every test with node's test runner, and stop
// what it started. Options:
//   --unit             unit tests only (no infrastructure)
//   --integration      integration tests only
//   --node PATH        run the tests with another node binary (CI uses Node 24)
//   FILTER...          only test files whose path contains one of the filters
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root, setup } from './setup.mjs';
import { infraDown, infraUp } from './infra.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const nodeIndex = args.indexOf('--node');
const nodeBinary = nodeIndex >= 0 ? args[nodeIndex + 1] : process.execPath;
const filters = args.filter((a, i) => !a.startsWith('--') && (nodeIndex < 0 || i !== nodeIndex + 1));
const wantUnit = !flag('--integration');
const wantIntegration = !flag('--unit');

/** Unit tests sit beside the code (dist/src); integration tests in each package's test/ (dist/test). */
function findTests(kind) {
  const files = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.test.js')) files.push(path);
    }
  };
  for (const group of ['libs', 'services']) {
    for (const pkg of readdirSync(join(root, group))) walk(join(root, group, pkg, 'dist', kind));
  }
  walk(join(root, 'launcher', 'dist', kind));
  return files
    .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)))
    .sort();
}

setup({ native: 'required' });
const unit = wantUnit ? findTests('src') : [];
const integration = wantIntegration ? findTests('test') : [];
const files = [...unit, ...integration];
if (files.length === 0) {
  console.error('test: no test files matched');
  process.exit(1);
}

let infra = { env: {}, started: [] };
if (integration.length > 0) {
  console.error('test: bringing up etcd, Redis and Cassandra on 127.0.0.1 (scripts/infra.mjs)');
  infra = await infraUp(['etcd', 'redis', 'cassandra']);
}

console.error(`test: ${unit.length} unit and ${integration.length} integration test files with ${nodeBinary}`);
const child = spawn(
  nodeBinary,
  ['--test', '--test-concurrency=1', '--test-timeout=180000', '--test-reporter=spec', ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: 'inherit', env: { ...process.env, ...infra.env } },
);
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
if (infra.started.length > 0) await infraDown(infra.started);
process.exit(code);
