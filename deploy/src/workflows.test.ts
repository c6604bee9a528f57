import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKFLOWS = path.join(ROOT, '.github/workflows');

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly 'runs-on': string;
  readonly steps: readonly Step[];
  readonly environment?: string;
  readonly strategy?: { matrix?: Record<string, unknown> };
}
interface Workflow {
  readonly name: string;
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const workflows = Object.fromEntries(
  readdirSync(WORKFLOWS)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => [f.replace(/\.yml$/, ''), parse(readFileSync(path.join(WORKFLOWS, f), 'utf8')) as Workflow]),
);
const runs = (w: Workflow) =>
  Object.values(w.jobs)
    .flatMap((j) => j.steps.map((s) => s.run ?? ''))
    .join('\n');
const uses = (w: Workflow) =>
  Object.values(w.jobs).flatMap((j) => j.steps.flatMap((s) => (s.uses ? [s.uses] : [])));

describe('GitHub workflows', () => {
  it('check, security, images and deploy exist', () => {
    expect(Object.keys(workflows).sort()).toEqual(['check', 'deploy', 'images', 'security']);
  });

  it.each(Object.entries(workflows))(
    '%s: pinned actions, explicit permissions, steps that run something',
    (_name, w) => {
      expect(w.permissions, 'top-level permissions').toBeDefined();
      for (const action of uses(w)) expect(action).toMatch(/^[\w.-]+\/[\w./-]+@v?\d[\w.]*$/);
      for (const job of Object.values(w.jobs)) {
        expect(job['runs-on']).toMatch(/^ubuntu-\d/);
        for (const step of job.steps) expect(step.uses ?? step.run).toBeTruthy();
      }
    },
  );

  it('check runs the local gate (.ci/run), the OpenAPI drift check and renders every overlay', () => {
    const text = runs(workflows.check!);
    expect(text).toContain('bash .ci/run');
    expect(text).toContain('npm run openapi -- --check');
    expect(text).toMatch(/for overlay in us fr ch/);
    expect(existsSync(path.join(ROOT, '.ci/run'))).toBe(true);
  });

  it('security runs npm audit, CodeQL and dependency review', () => {
    const w = workflows.security!;
    expect(runs(w)).toContain('npm audit');
    expect(uses(w).some((u) => u.startsWith('github/codeql-action/analyze@'))).toBe(true);
    expect(uses(w).some((u) => u.startsWith('actions/dependency-review-action@'))).toBe(true);
  });

  it('images builds both Dockerfiles that exist', () => {
    const w = workflows.images!;
    expect(w.jobs.build!.strategy!.matrix!.image).toEqual(['server', 'worker']);
    for (const image of ['server', 'worker']) {
      expect(existsSync(path.join(ROOT, `deploy/docker/${image}.Dockerfile`))).toBe(true);
    }
    expect(Object.keys(w.on)).toContain('push');
  });

  it('deploy applies an existing overlay per country, on version tags, one environment each', () => {
    const w = workflows.deploy!;
    const job = w.jobs.deploy!;
    const countries = job.strategy!.matrix!.country as string[];
    expect(countries.sort()).toEqual(['ch', 'fr', 'us']);
    for (const c of countries)
      expect(existsSync(path.join(ROOT, `deploy/k8s/overlays/${c}/kustomization.yaml`))).toBe(true);
    expect(job.environment).toBe(`\${{ matrix.country }}`);
    expect(JSON.stringify(w.on)).toContain('images');
    expect(JSON.stringify(job)).toContain("startsWith(github.event.workflow_run.head_branch, 'v')");
    expect(runs(w)).toContain('kubectl apply -k');
  });
});
