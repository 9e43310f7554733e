#!/usr/bin/env node
// Makes a checkout runnable: installs dependencies when the lockfile changed, regenerates the
// Protobuf code when a contract changed, compiles every workspace (tsc -b, incremental), and
// builds the Rust crates (cargo) when they changed. Used by `npm start` and `npm test`;
// `node scripts/setup.mjs` runs it alone.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

/** Feeds every file under `dir` that `keep` accepts (path and bytes, in a stable order) into `hash`; `skip` names folders left out. */
function hashTree(hash, dir, keep = () => true, skip = new Set()) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.has(entry.name)) hashTree(hash, path, keep, skip);
    } else if (keep(entry.name)) hash.update(path.slice(root.length)).update(readFileSync(path));
  }
}

function protoFingerprint() {
  const hash = createHash('sha256');
  hashTree(hash, join(root, 'proto'), (name) => name.endsWith('.proto'));
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

function nativeFingerprint() {
  const hash = createHash('sha256');
  for (const file of ['Cargo.toml', 'Cargo.lock']) hash.update(file).update(readFileSync(join(root, file)));
  for (const crate of nativeCrates) hashTree(hash, join(root, crate), undefined, new Set(['build', 'target']));
  return hash.digest('hex');
}

const nativeCrates = ['services/push/native', 'loadtest/h2-endpoint'];
export const nativeAddon = join(root, 'services', 'push', 'native', 'build', 'chorus_push_h2.node');
export const h2Endpoint = join(root, 'target', 'release', 'chorus-h2-endpoint');

function hasCargo() {
  try {
    execFileSync('cargo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the Rust parts (the push service's HTTP/2 client addon, the push benchmark's endpoint)
 * with cargo when their sources changed. Without cargo, `required` makes that an error (tests,
 * benchmarks); otherwise Chorus runs without them (push's FCM/APNs then need
 * CHORUS_PUSH_HTTP2_CLIENT=node).
 */
export function buildNative({ required = false } = {}) {
  const stamp = join(root, 'target', '.chorus-native-fingerprint');
  const fingerprint = nativeFingerprint();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint && existsSync(nativeAddon) && existsSync(h2Endpoint)) return;
  if (!hasCargo()) {
    if (required) throw new Error('setup: Rust\'s cargo is needed to build services/push/native (https://rustup.rs)');
    console.error('setup: cargo not found; the push service\'s native HTTP/2 client is not built (FCM/APNs need CHORUS_PUSH_HTTP2_CLIENT=node)');
    return;
  }
  run('cargo', ['build', '--release', '--locked', '--quiet'], 'built the native crates (cargo build --release)');
  const library = join(root, 'target', 'release', process.platform === 'darwin' ? 'libchorus_push_h2.dylib' : 'libchorus_push_h2.so');
  mkdirSync(dirname(nativeAddon), { recursive: true });
  copyFileSync(library, nativeAddon);
  writeFileSync(stamp, fingerprint);
}

export function setup({ native = 'optional' } = {}) {
  ensureInstalled();
  generate();
  build();
  buildNative({ required: native === 'required' });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) setup({ native: 'required' });
