import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { interpolate, parseDotenv, validateCompose } from './compose-validate.ts';

const DEPLOY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMPOSE = path.join(DEPLOY, 'compose.yaml');
const ENV = path.join(DEPLOY, '.env.example');
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** Validates a changed copy of the compose file, placed where its relative paths still resolve. */
function validateChanged(change: (text: string) => string): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-compose-'));
  copies.push(dir);
  const deploy = path.join(dir, 'deploy');
  cpSync(DEPLOY, deploy, {
    recursive: true,
    filter: (src) => !src.includes('node_modules') && !src.includes('.cache'),
  });
  cpSync(path.join(DEPLOY, 'docker'), path.join(deploy, 'docker'), { recursive: true });
  writeFileSync(path.join(deploy, 'compose.yaml'), change(readFileSync(COMPOSE, 'utf8')));
  return validateCompose(path.join(deploy, 'compose.yaml'), path.join(deploy, '.env.example')).map(
    (f) => `${f.where}: ${f.message}`,
  );
}

describe('compose', () => {
  it('validates against the Compose Specification and our rules', () => {
    expect(validateCompose(COMPOSE, ENV)).toEqual([]);
  });

  it('runs server, worker, postgres, redis, prometheus and grafana, each with a healthcheck', () => {
    const { text } = interpolate(readFileSync(COMPOSE, 'utf8'), parseDotenv(readFileSync(ENV, 'utf8')));
    const doc = parse(text, { merge: true }) as {
      services: Record<string, { healthcheck?: unknown; environment?: Record<string, string> }>;
    };
    expect(Object.keys(doc.services).sort()).toEqual([
      'grafana',
      'postgres',
      'prometheus',
      'redis',
      'server',
      'worker',
    ]);
    for (const service of Object.values(doc.services)) expect(service.healthcheck).toBeDefined();
    expect(doc.services.server!.environment!.NESTOR_DATABASE_URL).toBe(
      'postgres://nestor:change-me@postgres:5432/nestor',
    );
    expect(doc.services.worker!.environment!.NESTOR_REDIS_URL).toBe('redis://:change-me@redis:6379');
  });

  it.each([
    [
      'an unknown service key',
      (t: string) => t.replace('  init: true\n', '  init: true\n  frobnicate: 1\n'),
      /additional properties/,
    ],
    [
      'a healthcheck disabled',
      (t: string) =>
        t.replace('test: ["CMD", "pg_isready", "-U", "nestor", "-d", "nestor"]', 'disable: true'),
      /postgres: no healthcheck/,
    ],
    [
      'a public port',
      (t: string) => t.replace('"127.0.0.1:${GRAFANA_PORT', '"${GRAFANA_PORT'),
      /must bind 127.0.0.1/,
    ],
    [
      'an unpinned image',
      (t: string) => t.replace(/redis:7-bookworm@sha256:[0-9a-f]+/, 'redis:7'),
      /not pinned/,
    ],
    ['a writable root', (t: string) => t.replace('  read_only: true\n', ''), /read-only/],
    [
      'a literal password',
      (t: string) =>
        t.replace(
          `POSTGRES_PASSWORD: \${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in deploy/.env}`,
          'POSTGRES_PASSWORD: hunter2',
        ),
      /must come from a variable/,
    ],
    [
      'an undefined variable',
      (t: string) => t.replace(`\${GRAFANA_PORT:-3000}`, `\${GRAFANA_HOST_PORT}`),
      /GRAFANA_HOST_PORT/,
    ],
    ['a bad duration', (t: string) => t.replace('interval: 5s', 'interval: five'), /duration/],
    [
      'a missing bind mount',
      (t: string) => t.replace('./monitoring/alerts.yaml', './monitoring/nope.yaml'),
      /does not exist/,
    ],
  ])('catches %s', (_name, change, error) => {
    expect(validateChanged(change).join('\n')).toMatch(error);
  });

  it.each([
    [`$A \${A} \${B:-b} \${B-b} $$A`, 'a a b b $A', []],
    [`\${E:-x} \${E-x}`, 'x ', []],
    [`\${B:?need B} \${C}`, ' ', ['B', 'C']],
  ])('interpolates %s', (text, want, missing) => {
    expect(
      interpolate(
        text,
        new Map([
          ['A', 'a'],
          ['E', ''],
        ]),
      ),
    ).toEqual({ text: want, missing });
  });
});
