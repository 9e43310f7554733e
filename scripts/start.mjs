#!/usr/bin/env node
// `npm start`: install if needed, build, and run Chorus in embedded mode (no infrastructure).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root, setup } from './setup.mjs';

setup();
const child = spawn(process.execPath, [join(root, 'launcher', 'dist', 'src', 'embedded.js')], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
