import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { instructions, lintDockerfile } from './dockerfile-lint.ts';

const DOCKER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docker');
const read = (name: string) => readFileSync(path.join(DOCKER, name), 'utf8');

describe('Dockerfiles', () => {
  it.each(['server.Dockerfile', 'worker.Dockerfile'])('%s lints clean', (name) => {
    expect(lintDockerfile(read(name))).toEqual([]);
  });

  it.each(['server.Dockerfile', 'worker.Dockerfile'])(
    '%s: build then a non-root runtime with ffmpeg and mkvmerge (exact variable frame rates)',
    (name) => {
      const steps = instructions(read(name));
      const froms = steps.filter((s) => s.keyword === 'FROM').map((s) => s.args);
      expect(froms).toEqual([`\${NODE_IMAGE} AS build`, `\${NODE_IMAGE} AS runtime`]);
      const runs = steps.filter((s) => s.keyword === 'RUN').map((s) => s.args);
      expect(runs[0]).toMatch(/^npm install -g npm@11\.19\.1 --no-audit --no-fund && npm ci /);
      expect(runs[1]).toMatch(/apt-get install -y --no-install-recommends ffmpeg mkvtoolnix /);
      expect(steps.find((s) => s.keyword === 'USER')?.args).toBe('10001:10001');
      expect(steps.find((s) => s.keyword === 'COPY' && s.args.includes('--from=build'))?.args).toContain(
        '--chown=root:root',
      );
    },
  );

  it('the server image builds the web app; the worker image starts `nestor worker`', () => {
    expect(read('server.Dockerfile')).toContain('npm run build -w @nestor/web');
    expect(read('server.Dockerfile')).toContain('CMD ["node", "apps/server/bin/nestor-server.js"]');
    expect(read('worker.Dockerfile')).toContain('CMD ["node", "apps/cli/bin/nestor.js", "worker"]');
  });

  it.each([
    [
      'FROM node:20@sha256:' + 'a'.repeat(64) + '\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'multi-stage',
    ],
    ['FROM node:latest AS a\nFROM a\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n', 'pinned-base'],
    [
      'FROM node@sha256:' + 'a'.repeat(64) + ' AS a\nFROM a\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'explicit-tag',
    ],
    [
      'FROM a:1@sha256:' + 'a'.repeat(64) + ' AS b\nFROM b\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'non-root',
    ],
    [
      'FROM a:1@sha256:' + 'a'.repeat(64) + ' AS b\nFROM b\nUSER root\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'non-root',
    ],
    ['FROM a:1@sha256:' + 'a'.repeat(64) + ' AS b\nFROM b\nUSER 1\nCMD ["x"]\n', 'healthcheck'],
    [
      'FROM a:1@sha256:' + 'a'.repeat(64) + ' AS b\nFROM b\nUSER 1\nHEALTHCHECK NONE\nCMD ["x"]\n',
      'healthcheck',
    ],
    [
      'FROM a:1@sha256:' + 'a'.repeat(64) + ' AS b\nFROM b\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD node x\n',
      'exec-form',
    ],
    [
      'FROM a:1@sha256:' +
        'a'.repeat(64) +
        ' AS b\nRUN npm install\nFROM b\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'npm-ci',
    ],
    [
      'FROM a:1@sha256:' +
        'a'.repeat(64) +
        ' AS b\nRUN apt-get update && apt-get install -y ffmpeg\nFROM b\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'apt-lean',
    ],
    [
      'FROM a:1@sha256:' +
        'a'.repeat(64) +
        ' AS b\nRUN curl -s https://x | sh\nFROM b\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'no-pipe-install',
    ],
    [
      'FROM a:1@sha256:' +
        'a'.repeat(64) +
        ' AS b\nADD https://x/y /y\nFROM b\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'no-remote-add',
    ],
    [
      'FROM a:1@sha256:' +
        'a'.repeat(64) +
        ' AS b\nENV DB_PASSWORD=x\nFROM b\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'no-secrets',
    ],
    [
      'FROM a:1@sha256:' +
        'a'.repeat(64) +
        ' AS b\nFROBNICATE x\nFROM b\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n',
      'dockerfile-utils:',
    ],
  ])('flags rule %# (%s…)', (dockerfile, rule) => {
    expect(
      lintDockerfile(dockerfile)
        .map((f) => f.rule)
        .join(' '),
    ).toContain(rule.replace(/…$/, ''));
  });

  it('allows installing npm itself at a pinned version, nothing else', () => {
    const base = `FROM a:1@sha256:${'a'.repeat(64)} AS b\nRUN X\nFROM b\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["x"]\n`;
    const rules = (run: string) => lintDockerfile(base.replace('X', run)).map((f) => f.rule);
    expect(rules('npm install -g npm@11.19.1 --no-audit && npm ci')).toEqual([]);
    expect(rules('npm install -g npm@latest && npm ci')).toContain('npm-ci');
    expect(rules('npm ci && npm i left-pad')).toContain('npm-ci');
  });
});

/** Runs the container health check; resolves to its exit code. */
function healthcheck(role: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(DOCKER, 'healthcheck.mjs'), role], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

describe('healthcheck.mjs', () => {
  const servers: { close(): unknown }[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  async function http(status: number): Promise<number> {
    const server = createHttpServer((request, response) => {
      response.statusCode = request.url === '/healthz' ? status : 404;
      response.end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** A fake Redis: answers AUTH with +OK or an error, PING with +PONG. */
  async function redis(password: string | undefined): Promise<number> {
    const server: Server = createTcpServer((socket) => {
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk.toString('latin1');
        if (!buffer.includes('PING')) return;
        const auth = /AUTH\r\n\$\d+\r\n[^\r]*\r\n\$\d+\r\n([^\r]*)\r\n/.exec(buffer);
        if (password !== undefined && auth?.[1] !== password) socket.end('-WRONGPASS invalid password\r\n');
        else socket.end(`${auth ? '+OK\r\n' : ''}+PONG\r\n`);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('server: 0 when /healthz answers 200, 1 otherwise or when nothing listens', async () => {
    expect(await healthcheck('server', { NESTOR_PORT: String(await http(200)) })).toBe(0);
    expect(await healthcheck('server', { NESTOR_PORT: String(await http(503)) })).toBe(1);
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    expect(await healthcheck('server', { NESTOR_PORT: String(port) })).toBe(1);
  });

  it('worker: 0 when Redis answers PONG (with AUTH), 1 when it refuses', async () => {
    const open = await redis(undefined);
    expect(await healthcheck('worker', { NESTOR_REDIS_URL: `redis://127.0.0.1:${open}` })).toBe(0);
    const locked = await redis('s3cret');
    expect(await healthcheck('worker', { NESTOR_REDIS_URL: `redis://:s3cret@127.0.0.1:${locked}` })).toBe(0);
    expect(await healthcheck('worker', { NESTOR_REDIS_URL: `redis://:wrong@127.0.0.1:${locked}` })).toBe(1);
  });

  it('refuses an unknown role', async () => {
    expect(await healthcheck('nope', {})).toBe(2);
  });
});
