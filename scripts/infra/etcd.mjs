// etcd for development and tests: a single-member cluster on 127.0.0.1,
// from the Debian package etcd-server (3.4 on bookworm).
import { join } from 'node:path';
import { componentDir, daemonComponent, envPort } from './process.mjs';

/** True if the etcd at `url` reports {"health":"true"}. */
async function etcdHealthy(url) {
  const res = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(2000) });
  if (!res.ok) return false;
  return (await res.json()).health === 'true';
}

// etcd 3.4 refuses to start on arches other than amd64/ppc64le unless
// ETCD_UNSUPPORTED_ARCH names the Go arch it runs on.
const GOARCH = { x64: 'amd64', ia32: '386', ppc64: 'ppc64le' }[process.arch] ?? process.arch;
const archEnv = ['amd64', 'ppc64le'].includes(GOARCH) ? {} : { ETCD_UNSUPPORTED_ARCH: GOARCH };

export const { name, up, down, status } = daemonComponent({ name: 'etcd', pkg: 'etcd-server', binary: '/usr/bin/etcd' }, () => {
  const external = process.env.CHORUS_ETCD_ENDPOINTS;
  if (external) {
    const urls = external.split(',').map((s) => s.trim()).filter(Boolean);
    return {
      external: {
        variable: 'CHORUS_ETCD_ENDPOINTS',
        endpoint: external,
        env: { CHORUS_ETCD_ENDPOINTS: external },
        // one healthy member is enough for a client to connect
        healthy: async () => (await Promise.all(urls.map((u) => etcdHealthy(u).catch(() => false)))).some(Boolean),
      },
    };
  }
  const port = envPort('CHORUS_ETCD_PORT', 2379);
  const peerPort = envPort('CHORUS_ETCD_PEER_PORT', 2380);
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return {
    args: [
      '--name', 'chorus',
      // a subfolder, so etcd's data dir holds only its own files (pid and log sit beside it)
      '--data-dir', join(componentDir('etcd'), 'data'),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `chorus=${peer}`,
      '--initial-cluster-state', 'new',
      '--logger', 'zap', // 3.4's default logger (capnslog) prints a deprecation warning
    ],
    spawnEnv: archEnv,
    port,
    portVariable: 'CHORUS_ETCD_PORT',
    endpoint: client,
    env: { CHORUS_ETCD_ENDPOINTS: client },
    healthy: () => etcdHealthy(client),
  };
});
