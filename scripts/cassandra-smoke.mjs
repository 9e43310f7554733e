#!/usr/bin/env node
// Smoke test for the dev Cassandra (scripts/infra/cassandra.mjs): creates a keyspace
// (SimpleStrategy, rf=1) and a table, writes a row and reads it back.
//
//   node scripts/cassandra-smoke.mjs            # uses CHORUS_CASSANDRA_CONTACT_POINTS or 127.0.0.1:9042
//   CASSANDRA_DRIVER_DIR=/tmp/cass-smoke node scripts/cassandra-smoke.mjs
//
// Uses the npm package `cassandra-driver` when it can be resolved (from CASSANDRA_DRIVER_DIR,
// the current directory or the repo); it is NOT a dependency of the repo. Without it, the same
// statements go over a minimal built-in CQL native protocol v4 client (node: builtins only).
// Exit code 0 = the row written was read back.

import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const contactPoints = (process.env.CHORUS_CASSANDRA_CONTACT_POINTS || '127.0.0.1:9042')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const localDataCenter = process.env.CHORUS_CASSANDRA_LOCAL_DC || 'datacenter1';
const KS = 'chorus_smoke';
const id = randomUUID();
const body = `hello from cassandra-smoke ${new Date().toISOString()}`;

const statements = [
  `CREATE KEYSPACE IF NOT EXISTS ${KS} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  `CREATE TABLE IF NOT EXISTS ${KS}.messages (id uuid PRIMARY KEY, body text, n int)`,
  `INSERT INTO ${KS}.messages (id, body, n) VALUES (${id}, '${body.replace(/'/g, "''")}', 42)`,
];
const select = `SELECT id, body, n FROM ${KS}.messages WHERE id = ${id}`;

function loadDriver() {
  const dirs = [process.env.CASSANDRA_DRIVER_DIR, process.cwd(), ROOT].filter(Boolean);
  for (const d of dirs) {
    try {
      return { driver: createRequire(path.join(path.resolve(d), 'package.json'))('cassandra-driver'), from: d };
    } catch {
      /* try next */
    }
  }
  return null;
}

async function withDriver({ driver, from }) {
  const client = new driver.Client({
    contactPoints,
    localDataCenter,
    socketOptions: { connectTimeout: 10000, readTimeout: 30000 },
  });
  const t0 = Date.now();
  await client.connect();
  try {
    const rel = await client.execute('SELECT release_version FROM system.local');
    console.log(`connected with cassandra-driver ${driver.version ?? ''} (from ${from}) to ${contactPoints.join(',')}, Cassandra ${rel.rows[0].release_version}`);
    for (const q of statements) await client.execute(q);
    const rs = await client.execute(select);
    const row = rs.first();
    return { row: row && { id: String(row.id), body: row.body, n: row.n }, ms: Date.now() - t0 };
  } finally {
    await client.shutdown();
  }
}

// ---- minimal CQL native protocol v4 client (STARTUP + QUERY), enough for this smoke test
class MiniCql {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.buf = Buffer.alloc(0);
    this.waiters = new Map();
    this.stream = 0;
  }
  connect() {
    return new Promise((resolve, reject) => {
      this.sock = net.connect({ host: this.host, port: this.port }, resolve);
      this.sock.once('error', reject);
      this.sock.on('data', (d) => this.onData(d));
    });
  }
  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 9) {
      const len = this.buf.readUInt32BE(5);
      if (this.buf.length < 9 + len) break;
      const frame = { stream: this.buf.readInt16BE(2), opcode: this.buf[4], body: this.buf.subarray(9, 9 + len) };
      this.buf = this.buf.subarray(9 + len);
      const w = this.waiters.get(frame.stream);
      if (w) {
        this.waiters.delete(frame.stream);
        w(frame);
      }
    }
  }
  request(opcode, body) {
    const stream = ++this.stream;
    const h = Buffer.alloc(9);
    h[0] = 0x04;
    h.writeInt16BE(stream, 2);
    h[4] = opcode;
    h.writeUInt32BE(body.length, 5);
    this.sock.write(Buffer.concat([h, body]));
    return new Promise((resolve, reject) => {
      this.waiters.set(stream, (f) => {
        if (f.opcode === 0x00) {
          const code = f.body.readInt32BE(0);
          const msg = f.body.subarray(6, 6 + f.body.readUInt16BE(4)).toString();
          reject(new Error(`CQL error 0x${code.toString(16)}: ${msg}`));
        } else resolve(f);
      });
    });
  }
  async startup() {
    const kv = [str('CQL_VERSION'), str('3.0.0')];
    const f = await this.request(0x01, Buffer.concat([u16(1), ...kv]));
    if (f.opcode !== 0x02) throw new Error(`STARTUP: expected READY, got opcode ${f.opcode}`);
  }
  async query(q) {
    const f = await this.request(0x07, Buffer.concat([longStr(q), u16(0x0001 /* ONE */), Buffer.from([0])]));
    if (f.opcode !== 0x08) throw new Error(`QUERY: expected RESULT, got opcode ${f.opcode}`);
    return parseResult(f.body);
  }
  close() {
    this.sock.end();
  }
}
const u16 = (n) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const str = (s) => Buffer.concat([u16(Buffer.byteLength(s)), Buffer.from(s)]);
const longStr = (s) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(Buffer.byteLength(s));
  return Buffer.concat([b, Buffer.from(s)]);
};

function parseResult(b) {
  const kind = b.readInt32BE(0);
  if (kind !== 0x0002) return { kind };
  let o = 4;
  const rstr = () => {
    const n = b.readUInt16BE(o);
    o += 2;
    const s = b.subarray(o, o + n).toString();
    o += n;
    return s;
  };
  const flags = b.readInt32BE(o);
  const ncols = b.readInt32BE(o + 4);
  o += 8;
  if (flags & 0x0002) {
    const n = b.readInt32BE(o);
    o += 4 + Math.max(n, 0);
  }
  const global = flags & 0x0001;
  if (global) (rstr(), rstr());
  const readType = () => {
    const t = b.readUInt16BE(o);
    o += 2;
    if (t === 0x0000) rstr();
    else if (t === 0x0020 || t === 0x0022) readType();
    else if (t === 0x0021) (readType(), readType());
    else if (t === 0x0030) {
      rstr();
      rstr();
      const n = b.readUInt16BE(o);
      o += 2;
      for (let i = 0; i < n; i++) (rstr(), readType());
    } else if (t === 0x0031) {
      const n = b.readUInt16BE(o);
      o += 2;
      for (let i = 0; i < n; i++) readType();
    }
    return t;
  };
  const cols = [];
  for (let i = 0; i < ncols; i++) {
    if (!global) (rstr(), rstr());
    const name = rstr();
    cols.push({ name, type: readType() });
  }
  const nrows = b.readInt32BE(o);
  o += 4;
  const rows = [];
  for (let r = 0; r < nrows; r++) {
    const row = {};
    for (const c of cols) {
      const n = b.readInt32BE(o);
      o += 4;
      if (n < 0) {
        row[c.name] = null;
        continue;
      }
      const v = b.subarray(o, o + n);
      o += n;
      if (c.type === 0x0009) row[c.name] = v.readInt32BE(0);
      else if (c.type === 0x000c || c.type === 0x000f) {
        const h = v.toString('hex');
        row[c.name] = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      } else row[c.name] = v.toString('utf8');
    }
    rows.push(row);
  }
  return { kind, rows };
}

async function withMiniClient() {
  const [host, port] = contactPoints[0].split(':');
  const c = new MiniCql(host, Number(port) || 9042);
  const t0 = Date.now();
  await c.connect();
  try {
    await c.startup();
    const rel = await c.query('SELECT release_version FROM system.local');
    console.log(`connected with the built-in CQL v4 client to ${host}:${port || 9042}, Cassandra ${rel.rows[0].release_version}`);
    for (const q of statements) await c.query(q);
    const rs = await c.query(select);
    return { row: rs.rows[0], ms: Date.now() - t0 };
  } finally {
    c.close();
  }
}

const loaded = loadDriver();
if (!loaded) console.log('cassandra-driver not found; using the built-in minimal CQL client');
const { row, ms } = loaded ? await withDriver(loaded) : await withMiniClient();
if (!row || row.id !== id || row.body !== body || row.n !== 42) {
  console.error('FAIL: row read back does not match', { expected: { id, body, n: 42 }, got: row });
  process.exit(1);
}
console.log(`OK: wrote and read back ${KS}.messages row ${id} (${ms} ms): ${JSON.stringify(row)}`);
