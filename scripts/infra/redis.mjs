// Redis for development and tests on 127.0.0.1, from the Debian package redis-server.
import net from 'node:net';
import tls from 'node:tls';
import { componentDir, daemonComponent, envPort } from './process.mjs';

const resp = (args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** True if the Redis at `url` answers PING with +PONG (after AUTH when the URL has credentials). */
export function redisPing(url, timeoutMs = 2000) {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port || 6379);
  const commands = [];
  if (u.password) {
    const user = decodeURIComponent(u.username);
    commands.push(['AUTH', ...(user ? [user] : []), decodeURIComponent(u.password)]);
  }
  commands.push(['PING']);
  return new Promise((done) => {
    const options = { host, port, servername: host };
    const socket = u.protocol === 'rediss:' ? tls.connect(options) : net.connect(options);
    let buffer = '';
    const finish = (ok) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
    socket.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => socket.write(commands.map(resp).join('')));
    socket.on('data', (chunk) => {
      buffer += chunk;
      if (/(^|\n)-/.test(buffer)) finish(false); // an error reply, e.g. a wrong password
      else if (buffer.includes('+PONG\r\n')) finish(true);
    });
  });
}

export const { name, up, down, status } = daemonComponent({ name: 'redis', pkg: 'redis-server', binary: '/usr/bin/redis-server' }, () => {
  const external = process.env.CHORUS_REDIS_URL;
  if (external) {
    return {
      external: {
        variable: 'CHORUS_REDIS_URL',
        endpoint: external,
        env: { CHORUS_REDIS_URL: external },
        healthy: () => redisPing(external),
      },
    };
  }
  const port = envPort('CHORUS_REDIS_PORT', 6379);
  const url = `redis://127.0.0.1:${port}`;
  return {
    // Foreground (no --daemonize) so the pid we record is the server's own.
    args: [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', componentDir('redis'),
      '--save', '', // dev/test data: no RDB snapshots
      '--appendonly', 'no',
      '--protected-mode', 'no',
      '--daemonize', 'no',
    ],
    port,
    portVariable: 'CHORUS_REDIS_PORT',
    endpoint: url,
    env: { CHORUS_REDIS_URL: url },
    healthy: () => redisPing(url),
  };
});
