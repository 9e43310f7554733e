#!/usr/bin/env node
// `buf breaking` of the contracts against the previous commit on main. Skipped only when
// there is no previous commit with contracts (the very first one).
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './setup.mjs';

const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });

if (git('rev-parse', '--is-shallow-repository').stdout.trim() === 'true') {
  git('fetch', '--quiet', '--deepen=1'); // a shallow clone lacks the commit to compare with
}
const previous = git('rev-parse', '--verify', '--quiet', 'HEAD~1^{commit}').stdout.trim();
if (!previous) {
  console.log('buf breaking: skipped, HEAD has no parent commit (first commit)');
  process.exit(0);
}
if (git('cat-file', '-e', `${previous}:buf.yaml`).status !== 0) {
  console.log(`buf breaking: skipped, ${previous.slice(0, 12)} has no buf.yaml (contracts start here)`);
  process.exit(0);
}
execFileSync(join(root, 'node_modules', '.bin', 'buf'), ['breaking', '--against', `.git#ref=${previous}`], {
  cwd: root,
  stdio: 'inherit',
});
console.log(`buf breaking: no breaking change against ${previous.slice(0, 12)}`);
