// Container health check (Docker HEALTHCHECK, compose): plain Node, no dependency, exits 0 when healthy.
//   node deploy/docker/healthcheck.mjs server   GET /healthz on the server's port
//   node deploy/docker/healthcheck.mjs worker   PING the Redis the worker takes its jobs from
import net from 'node:net';

const TIMEOUT_MS = 4000;

async function server(env) {
  const port = Number(env.NESTOR_PORT || 5050);
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, {
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`/healthz answered ${response.status}`);
}

/** One RESP exchange per command; AUTH first when the URL carries a password. */
function worker(env) {
  const url = new URL(env.NESTOR_REDIS_URL || 'redis://127.0.0.1:6379');
  const commands = [];
  if (url.password) {
    const user = decodeURIComponent(url.username || 'default');
    commands.push(['AUTH', user, decodeURIComponent(url.password)]);
  }
  commands.push(['PING']);
  const encode = (args) =>
    `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('Redis did not answer in time')));
    let received = '';
    socket.on('connect', () => socket.write(commands.map(encode).join('')));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.startsWith('-')) socket.destroy(new Error(`Redis refused: ${received.split('\r\n')[0]}`));
      else if (received.includes('+PONG\r\n')) {
        socket.end();
        resolve();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('Redis closed the connection')));
  });
}

const checks = { server, worker };
const role = process.argv[2] ?? 'server';
const check = checks[role];
if (!check) {
  process.stderr.write(`usage: healthcheck.mjs server|worker (not "${role}")\n`);
  process.exit(2);
}
try {
  await check(process.env);
  process.exit(0);
} catch (error) {
  process.stderr.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
