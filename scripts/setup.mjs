#!/usr/bin/env node
// Makes a checkout runnable: installs dependencies when the lockfile changed, regenerates the
// Protobuf code when a contract changed, and compiles every workspace (tsc -b, incremental).
// Used by `npm start` and `npm test`; `node scripts/setup.mjs` runs it alone.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function run(command, args, what) {
  const started = Date.now();
  execFileSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  console.error(`setup: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

export function ensureInstalled() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], 'installed dependencies (npm ci)');
}

function protoFingerprint() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.proto')) hash.update(path.slice(root.length)).update(readFileSync(path));
    }
  };
  walk(join(root, 'proto'));
  hash.update(readFileSync(join(root, 'buf.gen.yaml')));
  hash.update(readFileSync(join(root, 'node_modules', '@bufbuild', 'protoc-gen-es', 'package.json')));
  return hash.digest('hex');
}

export function generate() {
  const stamp = join(root, 'libs', 'contracts', 'src', 'gen', '.fingerprint');
  const fingerprint = protoFingerprint();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint) return;
  run(bin('buf'), ['generate'], 'generated Protobuf code (buf generate, local protoc-gen-es)');
  writeFileSync(stamp, fingerprint);
}

export function build() {
  run(bin('tsc'), ['-b'], 'compiled TypeScript (tsc -b)');
}

export function setup() {
  ensureInstalled();
  generate();
  build();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) setup();
