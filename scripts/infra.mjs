#!/usr/bin/env node
// Local infrastructure for development and tests (etcd, Redis, and any
// component module under scripts/infra/, e.g. cassandra.mjs).
//
//   node scripts/infra.mjs up [etcd] [redis] [cassandra]   (no names = etcd redis)
//   node scripts/infra.mjs down [names]
//   node scripts/infra.mjs status [names]
//
// Importable: infraUp(names) / infraDown(names).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const INFRA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'infra');
export const DEFAULT_COMPONENTS = ['etcd', 'redis'];

/** Loaded by name, so a new component is just a new file in scripts/infra/. */
async function loadComponent(name) {
  const file = join(INFRA_DIR, `${name}.mjs`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || name === 'process' || !existsSync(file)) {
    const known = readdirSync(INFRA_DIR)
      .filter((f) => f.endsWith('.mjs') && f !== 'process.mjs')
      .map((f) => f.slice(0, -4));
    throw new Error(`unknown infra component "${name}" (available: ${known.join(', ')})`);
  }
  return import(pathToFileURL(file).href);
}

// Omitted names mean the defaults; an explicit [] means none, so that
// `infraDown(started)` never stops more than infraUp started.
const pick = (names) => (names ? [...new Set(names)] : DEFAULT_COMPONENTS);

/**
 * Start (or reuse) the named components, in order.
 * Returns { env, started, components }: the client environment merged over all
 * components, the names this call started itself, and each component's up() result.
 * On failure, what this call started is stopped again before the error is rethrown.
 */
export async function infraUp(names) {
  const env = {};
  const started = [];
  const components = {};
  const modules = [];
  for (const name of pick(names)) modules.push([name, await loadComponent(name)]); // unknown names fail before any start
  try {
    for (const [name, component] of modules) {
      const result = await component.up();
      components[name] = result;
      Object.assign(env, result.env);
      if (result.startedByUs) started.push(name);
    }
  } catch (err) {
    // Roll back exactly what this call started (not infraDown's defaults).
    for (const name of started) await (await loadComponent(name)).down().catch(() => {});
    throw err;
  }
  return { env, started, components };
}

/** Stop the named components, but only processes these scripts started. Returns each down() result. */
export async function infraDown(names) {
  const results = {};
  for (const name of pick(names)) results[name] = await (await loadComponent(name)).down();
  return results;
}

export async function infraStatus(names) {
  const results = {};
  for (const name of pick(names)) results[name] = await (await loadComponent(name)).status();
  return results;
}

async function main([command, ...args]) {
  const names = args.length ? args : undefined;
  const pad = (name) => name.padEnd(10);
  switch (command) {
    case 'up': {
      const { components } = await infraUp(names);
      for (const [name, r] of Object.entries(components)) {
        const how = r.external ? 'external' : r.startedByUs ? `started, pid ${r.pid}` : r.pid ? `reused, pid ${r.pid}` : 'reused, not started by us';
        console.log(`${pad(name)} ${r.endpoint}  (${how})  ${Object.entries(r.env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      }
      return 0;
    }
    case 'down': {
      for (const [name, r] of Object.entries(await infraDown(names))) {
        console.log(`${pad(name)} ${r.stopped ? `stopped pid ${r.pid}` : 'not running (nothing of ours to stop)'}`);
      }
      return 0;
    }
    case 'status': {
      let allHealthy = true;
      for (const [name, s] of Object.entries(await infraStatus(names))) {
        allHealthy &&= s.healthy;
        const health = s.state === 'external' ? (s.healthy ? ', healthy' : ', NOT answering') : '';
        console.log(`${pad(name)} ${s.endpoint}  ${s.state}${health}${s.pid ? `, pid ${s.pid}` : ''}`);
      }
      return allHealthy ? 0 : 1; // usable as a check: `status || up`
    }
    default:
      console.error('usage: node scripts/infra.mjs up|down|status [etcd] [redis] [cassandra]');
      return 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`infra: ${err.message}`);
      process.exit(1);
    },
  );
}
