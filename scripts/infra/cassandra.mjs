// Single-node Apache Cassandra 5.0 on 127.0.0.1 for development and tests.
//
// The binary tarball (org.apache.cassandra:apache-cassandra:bin:tar.gz) is not
// published to Maven Central for 5.x (the last one there is 4.0-alpha2), so we
// fetch org.apache.cassandra:cassandra-all plus its runtime dependencies with
// `mvn dependency:copy-dependencies` into .chorus/cache/cassandra/<version>/lib
// and run org.apache.cassandra.service.CassandraDaemon directly with a config,
// logback file and JVM flags generated here (the equivalent of bin/cassandra +
// conf/jvm17-server.options, which are not part of the jar).
//
// Interface (loaded by scripts/infra.mjs): { name, up(), down(), status() }.
//
// Environment:
//   CHORUS_CASSANDRA_CONTACT_POINTS  external Cassandra/ScyllaDB ("host:port,host:port");
//                                    when set nothing is started, it is only probed
//   CHORUS_CASSANDRA_LOCAL_DC        local DC reported for an external cluster (default datacenter1)
//   CHORUS_CASSANDRA_PORT            CQL native port (default 9042)
//   CHORUS_CASSANDRA_STORAGE_PORT    inter-node storage port (default 7000)
//   CHORUS_CASSANDRA_JMX_PORT        enable local-only JMX on this port (default: JMX off)
//   CHORUS_CASSANDRA_HEAP            max heap, e.g. 1g or 768m (default 1g; -Xms is min(256m, max).
//                                    Cassandra mlockall()s its memory when run as root, so -Xms is resident)
//   CHORUS_CASSANDRA_FAST_START      1 (default): C1-only JIT (-XX:TieredStopAtLevel=1), starts ~2x faster
//                                    on small machines; set 0 for full C2 (better peak throughput, load tests)
//   CHORUS_CASSANDRA_VERSION         cassandra-all version (default below)
//   CHORUS_CASSANDRA_START_TIMEOUT   seconds to wait for CQL (default 180)
//   CHORUS_CASSANDRA_JVM_OPTS        extra JVM options, space-separated (appended last)
//   JAVA_HOME                        JDK to use (else `java` on PATH); Cassandra 5.0 needs Java 11 or 17

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const name = 'cassandra';

const DEFAULT_VERSION = '5.0.9';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const HOST = '127.0.0.1';
const LOCAL_DC = 'datacenter1';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE_ROOT = path.join(ROOT, '.chorus', 'cache', 'cassandra');
const STATE_DIR = path.join(ROOT, '.chorus', 'infra', 'cassandra');
const CONF_DIR = path.join(STATE_DIR, 'conf');
const LOG_DIR = path.join(STATE_DIR, 'logs');
const PID_FILE = path.join(STATE_DIR, 'cassandra.pid');
const META_FILE = path.join(STATE_DIR, 'cassandra.json');
const LOCK_FILE = path.join(STATE_DIR, 'up.lock');
const STDOUT_LOG = path.join(LOG_DIR, 'stdout.log');
const SYSTEM_LOG = path.join(LOG_DIR, 'system.log');

// ---------------------------------------------------------------- helpers

const log = (msg) => process.stderr.write(`[cassandra] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

function envInt(key, def) {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${key} must be a port number, got "${raw}"`);
  return n;
}

function settings() {
  const version = process.env.CHORUS_CASSANDRA_VERSION || DEFAULT_VERSION;
  const jmx = process.env.CHORUS_CASSANDRA_JMX_PORT;
  return {
    version,
    port: envInt('CHORUS_CASSANDRA_PORT', 9042),
    storagePort: envInt('CHORUS_CASSANDRA_STORAGE_PORT', 7000),
    jmxPort: jmx ? envInt('CHORUS_CASSANDRA_JMX_PORT', 7199) : null,
    heapMb: parseSizeMb(process.env.CHORUS_CASSANDRA_HEAP || '1g'),
    timeoutMs: (Number(process.env.CHORUS_CASSANDRA_START_TIMEOUT) || 180) * 1000,
    cacheDir: path.join(CACHE_ROOT, version),
    fastStart: !['0', 'false', 'no'].includes(String(process.env.CHORUS_CASSANDRA_FAST_START ?? '1').toLowerCase()),
    extraJvmOpts: (process.env.CHORUS_CASSANDRA_JVM_OPTS || '').split(/\s+/).filter(Boolean),
  };
}

function parseSizeMb(s) {
  const m = /^\s*(\d+)\s*([kmgt]?)b?\s*$/i.exec(String(s));
  if (!m) throw new Error(`CHORUS_CASSANDRA_HEAP must look like 1g or 768m, got "${s}"`);
  const n = Number(m[1]);
  const mb = { '': n / (1024 * 1024), k: n / 1024, m: n, g: n * 1024, t: n * 1024 * 1024 }[m[2].toLowerCase()];
  if (mb < 256) throw new Error(`CHORUS_CASSANDRA_HEAP too small (${s}); Cassandra needs at least 256m`);
  return Math.floor(mb);
}

function readFileOr(file, fallback = null) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

// Last `lines` lines of what was appended to `file` after byte offset `from`.
function tail(file, lines = 40, from = 0) {
  let text;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(from <= size ? from : 0, size - 256 * 1024);
      const b = Buffer.alloc(size - start);
      fs.readSync(fd, b, 0, b.length, start);
      text = b.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return `(no ${path.relative(ROOT, file)})`;
  }
  const out = text.trimEnd().split('\n').slice(-lines).join('\n');
  return out || '(empty)';
}

function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// The pid is ours only if it still runs CassandraDaemon with our config (guards against pid reuse).
function isOurCassandra(pid) {
  if (!isAlive(pid)) return false;
  const cmdline = readFileOr(`/proc/${pid}/cmdline`);
  if (cmdline == null) return true; // no procfs: trust kill(0)
  // a zombie (exited, not yet reaped) has an empty cmdline
  return cmdline.includes('org.apache.cassandra.service.CassandraDaemon') && cmdline.includes(CONF_DIR);
}

function readMeta() {
  try {
    return JSON.parse(readFileOr(META_FILE, '{}'));
  } catch {
    return {};
  }
}

function readPid() {
  const n = Number((readFileOr(PID_FILE) || '').trim());
  return Number.isInteger(n) && n > 0 ? n : null;
}

function rssMb(pid) {
  const st = readFileOr(`/proc/${pid}/status`);
  const m = st && /VmRSS:\s+(\d+)\s+kB/.exec(st);
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

// Is something listening on host:port? (plain TCP connect)
function portInUse(port, host = HOST) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (v) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

// ---------------------------------------------------------------- CQL probe

// Sends a CQL native protocol v4 OPTIONS frame and waits for SUPPORTED.
// Frame header (v4): version(1) flags(1) stream(2) opcode(1) length(4).
// Resolves { ok: true, options } or { ok: false, error }.
export function probeCql(host, port, timeoutMs = 3000) {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let settled = false;
    const sock = net.connect({ host, port });
    const done = (res) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve(res);
    };
    sock.setTimeout(timeoutMs, () => done({ ok: false, error: 'timeout' }));
    sock.once('error', (e) => done({ ok: false, error: e.code || e.message }));
    sock.once('close', () => done({ ok: false, error: 'connection closed' }));
    sock.once('connect', () => {
      sock.write(Buffer.from([0x04, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00]));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 9) return;
      const version = buf[0];
      const opcode = buf[4];
      const len = buf.readUInt32BE(5);
      if ((version & 0x80) === 0) return done({ ok: false, error: `not a CQL response (0x${version.toString(16)})` });
      if (buf.length < 9 + len) return;
      const body = buf.subarray(9, 9 + len);
      if (opcode === 0x06) {
        let options = {};
        try {
          options = parseStringMultimap(body);
        } catch {
          /* the reply is still a SUPPORTED frame */
        }
        return done({ ok: true, protocolVersion: version & 0x7f, options });
      }
      if (opcode === 0x00) {
        const code = body.length >= 4 ? body.readInt32BE(0) : -1;
        const msg = body.length >= 6 ? body.subarray(6, 6 + body.readUInt16BE(4)).toString('utf8') : '';
        return done({ ok: false, error: `CQL ERROR 0x${code.toString(16)}: ${msg}` });
      }
      return done({ ok: false, error: `unexpected CQL opcode 0x${opcode.toString(16)}` });
    });
  });
}

function parseStringMultimap(b) {
  let o = 0;
  const str = () => {
    const n = b.readUInt16BE(o);
    o += 2;
    const s = b.subarray(o, o + n).toString('utf8');
    o += n;
    return s;
  };
  const out = {};
  const n = b.readUInt16BE(o);
  o += 2;
  for (let i = 0; i < n; i++) {
    const k = str();
    const m = b.readUInt16BE(o);
    o += 2;
    out[k] = Array.from({ length: m }, str);
  }
  return out;
}

function parseContactPoints(s) {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((cp) => {
      const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(cp);
      // bare IPv6 without brackets: treat the whole thing as host
      if (cp.includes(':') && cp.split(':').length > 2 && !cp.startsWith('[')) return { host: cp, port: 9042 };
      return { host: m[1], port: m[2] ? Number(m[2]) : 9042 };
    });
}

// ---------------------------------------------------------------- download

function mvnBin() {
  return process.env.MVN || 'mvn';
}

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function javaMajor() {
  const r = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${javaBin()}: ${r.error.message} (install a JDK 11 or 17 or set JAVA_HOME)`);
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr || '');
  if (!m) return null;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

function libDir(cfg) {
  return path.join(cfg.cacheDir, 'lib');
}

function jarsPresent(cfg) {
  if (!fs.existsSync(path.join(cfg.cacheDir, '.complete'))) return false;
  let jars;
  try {
    jars = fs.readdirSync(libDir(cfg)).filter((f) => f.endsWith('.jar'));
  } catch {
    return false;
  }
  return jars.some((f) => f.startsWith('cassandra-all-')) && jars.length > 20;
}

function ensureJars(cfg) {
  if (jarsPresent(cfg)) return { downloaded: false, seconds: 0 };
  const t0 = Date.now();
  fs.mkdirSync(cfg.cacheDir, { recursive: true });
  const lib = libDir(cfg);
  fs.rmSync(lib, { recursive: true, force: true });
  fs.rmSync(path.join(cfg.cacheDir, '.complete'), { force: true });
  const pom = `<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by scripts/infra/cassandra.mjs: resolves Cassandra's server classpath -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.chorus.infra</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>${cfg.version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>${cfg.version}</version>
    </dependency>
  </dependencies>
</project>
`;
  fs.writeFileSync(path.join(cfg.cacheDir, 'pom.xml'), pom);
  log(`fetching org.apache.cassandra:cassandra-all:${cfg.version} and dependencies with mvn (first run only)...`);
  const args = [
    '-B',
    '-q',
    '-f',
    path.join(cfg.cacheDir, 'pom.xml'),
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    `-DoutputDirectory=${lib}`,
    '-DincludeScope=runtime',
  ];
  const r = spawnSync(mvnBin(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`cannot run mvn (${r.error.message}); install Maven 3.6+ or set MVN`);
  if (r.status !== 0) {
    const out = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`mvn failed to fetch cassandra-all:${cfg.version} (exit ${r.status}):\n${out}`);
  }
  const jars = fs.readdirSync(lib).filter((f) => f.endsWith('.jar'));
  fs.writeFileSync(path.join(cfg.cacheDir, '.complete'), `${new Date().toISOString()} ${jars.length} jars\n`);
  log(`fetched ${jars.length} jars in ${secs(t0)}`);
  return { downloaded: true, seconds: (Date.now() - t0) / 1000 };
}

// ---------------------------------------------------------------- config

function writeConfig(cfg) {
  for (const d of ['data', 'commitlog', 'saved_caches', 'hints', 'cdc_raw', 'conf', 'logs', 'triggers']) {
    fs.mkdirSync(path.join(STATE_DIR, d), { recursive: true });
  }
  const q = (p) => JSON.stringify(p); // JSON strings are valid YAML double-quoted scalars
  const yaml = `# generated by scripts/infra/cassandra.mjs -- single dev node on ${HOST}; edits are overwritten
cluster_name: 'chorus-dev'
num_tokens: 16
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
auto_bootstrap: false

listen_address: ${HOST}
rpc_address: ${HOST}
storage_port: ${cfg.storagePort}
native_transport_port: ${cfg.port}
start_native_transport: true
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${HOST}:${cfg.storagePort}"

authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
network_authorizer: AllowAllNetworkAuthorizer

data_file_directories:
  - ${q(path.join(STATE_DIR, 'data'))}
commitlog_directory: ${q(path.join(STATE_DIR, 'commitlog'))}
saved_caches_directory: ${q(path.join(STATE_DIR, 'saved_caches'))}
hints_directory: ${q(path.join(STATE_DIR, 'hints'))}
cdc_raw_directory: ${q(path.join(STATE_DIR, 'cdc_raw'))}

commitlog_sync: periodic
commitlog_sync_period: 10000ms
commitlog_segment_size: 8MiB
commitlog_total_space: 256MiB

# small, fast-starting dev node
auto_snapshot: false
snapshot_before_compaction: false
incremental_backups: false
hinted_handoff_enabled: false
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
key_cache_size: 8MiB
row_cache_size: 0MiB
counter_cache_size: 4MiB
file_cache_size: 32MiB
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
concurrent_compactors: 1
native_transport_max_threads: 32
dynamic_snitch: false
cdc_enabled: false
materialized_views_enabled: true
sasi_indexes_enabled: true
user_defined_functions_enabled: false
disk_failure_policy: stop
commit_failure_policy: stop
`;
  fs.writeFileSync(path.join(CONF_DIR, 'cassandra.yaml'), yaml);

  const logback = `<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by scripts/infra/cassandra.mjs -->
<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>${SYSTEM_LOG}</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>${SYSTEM_LOG}.%i.zip</fileNamePattern>
      <minIndex>1</minIndex>
      <maxIndex>3</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
      <maxFileSize>20MB</maxFileSize>
    </triggeringPolicy>
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="FILE" />
  </root>
  <logger name="org.apache.cassandra" level="INFO" />
  <logger name="com.thinkaurelius.thrift" level="ERROR" />
</configuration>
`;
  fs.writeFileSync(path.join(CONF_DIR, 'logback.xml'), logback);
}

function jvmArgs(cfg) {
  const lib = libDir(cfg);
  const jars = fs.readdirSync(lib).filter((f) => f.endsWith('.jar'));
  const jamm = jars.find((f) => /^jamm-.*\.jar$/.test(f));
  const xms = Math.min(256, cfg.heapMb);
  const args = [
    `-Xms${xms}m`,
    `-Xmx${cfg.heapMb}m`,
    '-Xss256k',
    // jvm-server.options (minus -ea / AlwaysPreTouch / UseNUMA / heap dumps, which slow or bloat a dev node)
    '-XX:+UseThreadPriorities',
    '-XX:+ExitOnOutOfMemoryError',
    '-XX:+UseTLAB',
    '-XX:+ResizeTLAB',
    '-XX:+PerfDisableSharedMem',
    '-Djava.net.preferIPv4Stack=true',
    // jvm17-server.options
    '-XX:+UseG1GC',
    '-XX:+ParallelRefProcEnabled',
    '-XX:MaxTenuringThreshold=1',
    '-XX:G1RSetUpdatingPauseTimePercent=5',
    '-XX:MaxGCPauseMillis=300',
    '-XX:InitiatingHeapOccupancyPercent=70',
    '-Djdk.attach.allowAttachSelf=true',
    '--add-exports', 'java.base/jdk.internal.misc=ALL-UNNAMED',
    '--add-exports', 'java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
    '--add-exports', 'java.rmi/sun.rmi.registry=ALL-UNNAMED',
    '--add-exports', 'java.rmi/sun.rmi.server=ALL-UNNAMED',
    '--add-exports', 'java.sql/java.sql=ALL-UNNAMED',
    '--add-exports', 'java.base/java.lang.ref=ALL-UNNAMED',
    '--add-exports', 'jdk.unsupported/sun.misc=ALL-UNNAMED',
    '--add-exports', 'jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
    '--add-exports', 'jdk.attach/sun.tools.attach=ALL-UNNAMED',
    '--add-opens', 'java.base/java.lang.module=ALL-UNNAMED',
    '--add-opens', 'java.base/jdk.internal.loader=ALL-UNNAMED',
    '--add-opens', 'java.base/jdk.internal.ref=ALL-UNNAMED',
    '--add-opens', 'java.base/jdk.internal.reflect=ALL-UNNAMED',
    '--add-opens', 'java.base/jdk.internal.math=ALL-UNNAMED',
    '--add-opens', 'java.base/jdk.internal.module=ALL-UNNAMED',
    '--add-opens', 'java.base/jdk.internal.util.jar=ALL-UNNAMED',
    '--add-opens', 'jdk.management/com.sun.management.internal=ALL-UNNAMED',
    '--add-opens', 'java.base/sun.nio.ch=ALL-UNNAMED',
    '--add-opens', 'java.base/java.io=ALL-UNNAMED',
    '--add-opens', 'java.base/java.lang.reflect=ALL-UNNAMED',
    '--add-opens', 'jdk.compiler/com.sun.tools.javac=ALL-UNNAMED',
    '--add-opens', 'java.base/java.lang=ALL-UNNAMED',
    '--add-opens', 'java.base/java.util=ALL-UNNAMED',
    '--add-opens', 'java.base/java.nio=ALL-UNNAMED',
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Dio.netty.allocator.useCacheForAllThreads=true',
    '-Dio.netty.allocator.maxOrder=11',
    // Cassandra
    `-Dcassandra.config=file://${path.join(CONF_DIR, 'cassandra.yaml')}`,
    `-Dlogback.configurationFile=file://${path.join(CONF_DIR, 'logback.xml')}`,
    `-Dcassandra.logdir=${LOG_DIR}`,
    `-Dcassandra.storagedir=${STATE_DIR}`,
    `-Dcassandra.triggers_dir=${path.join(STATE_DIR, 'triggers')}`,
    '-Dcassandra-foreground=yes',
    // single node: nothing to wait for
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.ring_delay_ms=1000',
    '-Dcassandra.superuser_setup_delay_ms=0',
    '-Dcassandra.migration_delay_ms=0',
    '-Dcassandra.schema_delay_ms=0',
  ];
  if (cfg.fastStart) args.push('-XX:TieredStopAtLevel=1');
  if (jamm) args.push(`-javaagent:${path.join(lib, jamm)}`);
  if (cfg.jmxPort) args.push(`-Dcassandra.jmx.local.port=${cfg.jmxPort}`, '-XX:+DisableExplicitGC');
  args.push(...cfg.extraJvmOpts);
  args.push('-cp', `${path.join(lib, '*')}`, 'org.apache.cassandra.service.CassandraDaemon');
  return args;
}

// ---------------------------------------------------------------- lock

// A crude cross-process lock so two concurrent `up()` calls do not start two JVMs.
async function withLock(fn, timeoutMs) {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(LOCK_FILE, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const holder = Number(readFileOr(LOCK_FILE, '').trim());
      if (!holder || !isAlive(holder)) {
        fs.rmSync(LOCK_FILE, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK_FILE} (held by pid ${holder})`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    if (readFileOr(LOCK_FILE, '').trim() === String(process.pid)) fs.rmSync(LOCK_FILE, { force: true });
  }
}

// ---------------------------------------------------------------- lifecycle

function result(cfg, startedByUs, extra = {}) {
  return {
    endpoint: `${HOST}:${cfg.port}`,
    env: { CHORUS_CASSANDRA_CONTACT_POINTS: `${HOST}:${cfg.port}`, CHORUS_CASSANDRA_LOCAL_DC: LOCAL_DC },
    startedByUs,
    ...extra,
  };
}

async function waitForCql(cfg, pid, t0, logFrom = {}) {
  const sysFrom = logFrom.system ?? 0;
  const outFrom = logFrom.stdout ?? 0;
  const deadline = t0 + cfg.timeoutMs;
  let last = '';
  for (;;) {
    const r = await probeCql(HOST, cfg.port, 2000);
    if (r.ok) return r;
    last = r.error;
    if (pid && !isOurCassandra(pid)) {
      throw new Error(
        `Cassandra (pid ${pid}) exited during startup.\n--- ${path.relative(ROOT, STDOUT_LOG)} ---\n${tail(STDOUT_LOG, 30, outFrom)}\n--- ${path.relative(ROOT, SYSTEM_LOG)} ---\n${tail(SYSTEM_LOG, 30, sysFrom)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Cassandra did not answer CQL on ${HOST}:${cfg.port} within ${cfg.timeoutMs / 1000}s (last: ${last}; pid ${pid} is being stopped).\n--- ${path.relative(ROOT, SYSTEM_LOG)} ---\n${tail(SYSTEM_LOG, 30, sysFrom)}\n--- ${path.relative(ROOT, STDOUT_LOG)} ---\n${tail(STDOUT_LOG, 20, outFrom)}`,
      );
    }
    await sleep(500);
  }
}

async function upExternal(contactPoints) {
  const points = parseContactPoints(contactPoints);
  if (!points.length) throw new Error('CHORUS_CASSANDRA_CONTACT_POINTS is set but empty');
  const timeoutMs = (Number(process.env.CHORUS_CASSANDRA_START_TIMEOUT) || 60) * 1000;
  const deadline = Date.now() + timeoutMs;
  let errors;
  for (;;) {
    const probes = await Promise.all(points.map((p) => probeCql(p.host, p.port, 2000)));
    if (probes.some((r) => r.ok)) break;
    errors = probes.map((r, i) => `${points[i].host}:${points[i].port}: ${r.error}`).join('; ');
    if (Date.now() > deadline) {
      throw new Error(`external Cassandra (CHORUS_CASSANDRA_CONTACT_POINTS=${contactPoints}) does not answer CQL: ${errors}`);
    }
    await sleep(1000);
  }
  return {
    endpoint: `${points[0].host}:${points[0].port}`,
    env: {
      CHORUS_CASSANDRA_CONTACT_POINTS: contactPoints,
      CHORUS_CASSANDRA_LOCAL_DC: process.env.CHORUS_CASSANDRA_LOCAL_DC || LOCAL_DC,
    },
    startedByUs: false,
    external: true,
  };
}

export async function up() {
  if (process.env.CHORUS_CASSANDRA_CONTACT_POINTS) return upExternal(process.env.CHORUS_CASSANDRA_CONTACT_POINTS);

  const cfg = settings();
  return withLock(async () => {
    const t0 = Date.now();

    // 1. already running (ours)?
    const pid = readPid();
    if (pid && isOurCassandra(pid)) {
      const meta = readMeta();
      if (meta.port && meta.port !== cfg.port) {
        throw new Error(
          `our Cassandra (pid ${pid}) runs on port ${meta.port}, but CHORUS_CASSANDRA_PORT=${cfg.port}; run down() first`,
        );
      }
      log(`reusing running Cassandra (pid ${pid}), waiting for CQL on ${HOST}:${cfg.port}`);
      await waitForCql(cfg, pid, t0);
      return result(cfg, false, { pid });
    }
    if (pid) fs.rmSync(PID_FILE, { force: true }); // stale

    // 2. something else on the port?
    if (await portInUse(cfg.port)) {
      const r = await probeCql(HOST, cfg.port);
      if (r.ok) {
        log(`a CQL server not started by us already answers on ${HOST}:${cfg.port}; reusing it`);
        return result(cfg, false);
      }
      throw new Error(`port ${HOST}:${cfg.port} is in use by something that is not CQL (${r.error}); set CHORUS_CASSANDRA_PORT`);
    }
    if (await portInUse(cfg.storagePort)) {
      throw new Error(`storage port ${HOST}:${cfg.storagePort} is in use; set CHORUS_CASSANDRA_STORAGE_PORT`);
    }
    if (cfg.jmxPort && (await portInUse(cfg.jmxPort))) {
      throw new Error(`JMX port ${HOST}:${cfg.jmxPort} is in use; change CHORUS_CASSANDRA_JMX_PORT`);
    }

    // 3. fetch jars, write config, start
    const major = javaMajor();
    if (major && major !== 11 && major !== 17) {
      log(`warning: Java ${major} found; Cassandra 5.0 supports Java 11 and 17 (set JAVA_HOME)`);
    }
    const dl = ensureJars(cfg);
    writeConfig(cfg);

    fs.mkdirSync(LOG_DIR, { recursive: true });
    if (fileSize(STDOUT_LOG) > 5 * 1024 * 1024) fs.renameSync(STDOUT_LOG, `${STDOUT_LOG}.1`);
    const logFrom = { system: fileSize(SYSTEM_LOG), stdout: fileSize(STDOUT_LOG) };
    const out = fs.openSync(STDOUT_LOG, 'a');
    fs.writeSync(out, `\n==== ${new Date().toISOString()} starting cassandra-all ${cfg.version} ====\n`);
    const tStart = Date.now();
    const child = spawn(javaBin(), jvmArgs(cfg), {
      cwd: STATE_DIR,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, CASSANDRA_HOME: STATE_DIR, CASSANDRA_CONF: CONF_DIR },
    });
    fs.closeSync(out);
    await new Promise((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new Error(`cannot start ${javaBin()}: ${e.message}`)));
    });
    child.unref();
    fs.writeFileSync(PID_FILE, `${child.pid}\n`);
    fs.writeFileSync(
      META_FILE,
      JSON.stringify({ pid: child.pid, version: cfg.version, port: cfg.port, storagePort: cfg.storagePort, startedAt: new Date().toISOString() }, null, 2),
    );
    log(`started Cassandra ${cfg.version} (pid ${child.pid}), waiting for CQL on ${HOST}:${cfg.port}; log: ${path.relative(ROOT, SYSTEM_LOG)}`);
    try {
      await waitForCql(cfg, child.pid, tStart, logFrom);
    } catch (e) {
      if (isOurCassandra(child.pid)) await stopPid(child.pid); // don't leave a half-started JVM behind
      fs.rmSync(PID_FILE, { force: true });
      throw e;
    }
    const startSeconds = (Date.now() - tStart) / 1000;
    log(`CQL is up after ${startSeconds.toFixed(1)}s (RSS ${rssMb(child.pid)} MiB)`);
    return result(cfg, true, {
      pid: child.pid,
      version: cfg.version,
      timings: { downloadSeconds: dl.seconds, startSeconds },
    });
  }, cfg.timeoutMs + 60_000);
}

// Stops the node that up() started (tracked by our pid file), even when CHORUS_CASSANDRA_CONTACT_POINTS
// has been set since; an external cluster or a CQL server we merely reused is never touched.
export async function down() {
  const pid = readPid();
  if (!pid || !isOurCassandra(pid)) {
    fs.rmSync(PID_FILE, { force: true });
    const external = Boolean(process.env.CHORUS_CASSANDRA_CONTACT_POINTS);
    return { stopped: false, reason: external ? 'external (not started by us)' : 'not running' };
  }
  const r = await stopPid(pid);
  fs.rmSync(PID_FILE, { force: true });
  return { stopped: true, pid, ...r };
}

async function stopPid(pid) {
  const t0 = Date.now();
  const signal = (sig) => {
    try {
      process.kill(-pid, sig); // the whole process group (detached: own group)
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  signal('SIGTERM');
  const graceMs = 30_000;
  while (isOurCassandra(pid) && Date.now() - t0 < graceMs) await sleep(250);
  let killed = false;
  if (isOurCassandra(pid)) {
    log(`pid ${pid} ignored SIGTERM for ${graceMs / 1000}s; sending SIGKILL`);
    signal('SIGKILL');
    killed = true;
    while (isAlive(pid) && isOurCassandra(pid) && Date.now() - t0 < graceMs + 10_000) await sleep(100);
  }
  log(`stopped Cassandra (pid ${pid}) in ${secs(t0)}${killed ? ' (SIGKILL)' : ''}`);
  return { killed, seconds: (Date.now() - t0) / 1000 };
}

// Shape shared with the other infra components: { endpoint, state, healthy, pid }, where state is
// running | unhealthy (ours, CQL not answering yet) | foreign (CQL answers, not started by us) | stopped | external.
export async function status() {
  const ourPid = readPid();
  const ours = ourPid ? isOurCassandra(ourPid) : false;
  if (process.env.CHORUS_CASSANDRA_CONTACT_POINTS && !ours) {
    const cps = process.env.CHORUS_CASSANDRA_CONTACT_POINTS;
    const points = parseContactPoints(cps);
    const probes = await Promise.all(points.map((p) => probeCql(p.host, p.port, 2000)));
    return {
      name,
      state: 'external',
      healthy: probes.some((r) => r.ok),
      external: true,
      endpoint: points[0] ? `${points[0].host}:${points[0].port}` : cps,
      contactPoints: cps,
      probes: probes.map((r, i) => ({ endpoint: `${points[i].host}:${points[i].port}`, ok: r.ok, error: r.error })),
    };
  }
  const cfg = settings();
  const meta = readMeta();
  const port = ours && meta.port ? meta.port : cfg.port;
  const probe = await probeCql(HOST, port, 2000);
  const state = ours ? (probe.ok ? 'running' : 'unhealthy') : probe.ok ? 'foreign' : 'stopped';
  return {
    name,
    state,
    healthy: probe.ok,
    external: false,
    pid: ours ? ourPid : undefined,
    endpoint: `${HOST}:${port}`,
    version: ours ? meta.version : cfg.version,
    cqlVersion: probe.ok ? probe.options?.CQL_VERSION?.[0] : undefined,
    protocolVersions: probe.ok ? probe.options?.PROTOCOL_VERSIONS : undefined,
    rssMb: ours ? rssMb(ourPid) : undefined,
    startedAt: ours ? meta.startedAt : undefined,
    jarsCached: jarsPresent(cfg),
    dataDir: path.relative(ROOT, STATE_DIR),
    log: path.relative(ROOT, SYSTEM_LOG),
    error: probe.ok ? undefined : probe.error,
  };
}

export default { name, up, down, status };
