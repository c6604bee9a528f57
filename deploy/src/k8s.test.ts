import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@nestor/engine-node';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { checkPolicies, nginxSize, renderedConfig } from './k8s-policy.ts';
import { checkUnknownFields, validateSchemas } from './k8s-validate.ts';
import {
  applyJson6902,
  configMapHash,
  type JsonObject,
  type KObject,
  KustomizeError,
  objectId,
  render,
  strategicMerge,
} from './kustomize.ts';

const K8S = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../k8s');
const OVERLAYS = ['us', 'fr', 'ch'] as const;
const overlay = (name: string) => path.join(K8S, 'overlays', name);

const kubectlKustomize = spawnSync('kubectl', ['kustomize', '--help'], { encoding: 'utf8' }).status === 0;
if (!kubectlKustomize) {
  console.warn('skipping the comparison with kustomize: `kubectl kustomize` is not installed here');
}

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway kustomization folder from a map of file names to contents. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-kustomize-'));
  temporary.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const find = (objects: readonly KObject[], kind: string, name: string): KObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name.startsWith(name));
  if (!found) throw new Error(`${kind} ${name} not rendered`);
  return found;
};
const get = (o: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], o);

describe('kustomize renderer', () => {
  it('hashes a ConfigMap as kustomize 5 does', () => {
    // Values printed by `kubectl kustomize` (kustomize v5.5.0) for literals a=b, and for our base.
    expect(configMapHash({ a: 'b' })).toBe('4h2mbtbbt6');
    expect(configMapHash({})).toMatch(/^[a-z0-9]{10}$/);
  });

  it.each([
    {
      name: 'maps merge, null deletes',
      target: { spec: { replicas: 2, paused: true, strategy: { type: 'RollingUpdate' } } },
      patch: { spec: { replicas: 3, paused: null, strategy: { rollingUpdate: { maxSurge: 1 } } } },
      want: { spec: { replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
    },
    {
      name: 'containers merge by name, env by name, other lists replace',
      target: {
        containers: [
          { name: 'a', image: 'x', args: ['1', '2'], env: [{ name: 'K', value: '1' }] },
          { name: 'b', image: 'y' },
        ],
      },
      patch: {
        containers: [
          { name: 'a', args: ['3'], env: [{ name: 'L', value: '2' }] },
          { name: 'c', image: 'z' },
        ],
      },
      want: {
        containers: [
          {
            name: 'a',
            image: 'x',
            args: ['3'],
            env: [
              { name: 'K', value: '1' },
              { name: 'L', value: '2' },
            ],
          },
          { name: 'b', image: 'y' },
          { name: 'c', image: 'z' },
        ],
      },
    },
    {
      name: '$patch: delete removes a keyed element',
      target: { volumes: [{ name: 'a' }, { name: 'b' }] },
      patch: { volumes: [{ name: 'a', $patch: 'delete' }] },
      want: { volumes: [{ name: 'b' }] },
    },
    {
      name: 'container ports merge by containerPort, volume mounts by mountPath',
      target: { ports: [{ containerPort: 1, name: 'a' }], volumeMounts: [{ mountPath: '/a', name: 'x' }] },
      patch: {
        ports: [{ containerPort: 1, protocol: 'TCP' }],
        volumeMounts: [{ mountPath: '/b', name: 'y' }],
      },
      want: {
        ports: [{ containerPort: 1, name: 'a', protocol: 'TCP' }],
        volumeMounts: [
          { mountPath: '/a', name: 'x' },
          { mountPath: '/b', name: 'y' },
        ],
      },
    },
  ])('strategic merge: $name', ({ target, patch, want }) => {
    const copy = structuredClone(target) as JsonObject;
    strategicMerge(copy, patch as JsonObject, '');
    expect(copy).toEqual(want);
  });

  it.each([
    { ops: [{ op: 'replace', path: '/a/0', value: 9 }], want: { a: [9, 2], b: { c: 1 } } },
    { ops: [{ op: 'add', path: '/a/-', value: 3 }], want: { a: [1, 2, 3], b: { c: 1 } } },
    { ops: [{ op: 'add', path: '/a/0', value: 0 }], want: { a: [0, 1, 2], b: { c: 1 } } },
    { ops: [{ op: 'remove', path: '/b/c' }], want: { a: [1, 2], b: {} } },
    { ops: [{ op: 'move', from: '/b/c', path: '/d' }], want: { a: [1, 2], b: {}, d: 1 } },
    { ops: [{ op: 'copy', from: '/a', path: '/b/a~1b' }], want: { a: [1, 2], b: { c: 1, 'a/b': [1, 2] } } },
    { ops: [{ op: 'test', path: '/b/c', value: 1 }], want: { a: [1, 2], b: { c: 1 } } },
  ])('JSON 6902 $ops.0.op', ({ ops, want }) => {
    const o: JsonObject = { a: [1, 2], b: { c: 1 } };
    applyJson6902(o, ops as JsonObject[], 'test');
    expect(o).toEqual(want);
  });

  it.each([
    { ops: [{ op: 'replace', path: '/nope', value: 1 }], error: /does not exist/ },
    { ops: [{ op: 'test', path: '/b/c', value: 2 }], error: /test failed/ },
    { ops: [{ op: 'replace', path: '/a/5', value: 1 }], error: /out of range/ },
    { ops: [{ op: 'frobnicate', path: '/a' }], error: /unknown op/ },
  ])('JSON 6902 refuses $ops.0.op on $ops.0.path', ({ ops, error }) => {
    expect(() => applyJson6902({ a: [1, 2], b: { c: 1 } }, ops as JsonObject[], 'test')).toThrow(error);
  });

  it('refuses what it does not implement instead of ignoring it', () => {
    const dir = tree({ 'kustomization.yaml': 'namePrefix: x-\nresources: []\n' });
    expect(() => render(dir)).toThrow(KustomizeError);
    expect(() => render(dir)).toThrow(/unsupported field "namePrefix"/);
  });

  it('renders a small tree: generator hash, references, namespace, labels, images, patches', () => {
    const dir = tree({
      'base/kustomization.yaml': [
        'labels: [{pairs: {team: a}, includeTemplates: true}]',
        'resources: [deploy.yaml]',
        'configMapGenerator: [{name: cfg, literals: [a=b]}]',
        'images: [{name: app, newName: reg.example/app, newTag: "1.2"}]',
      ].join('\n'),
      'base/deploy.yaml': [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: web}',
        'spec:',
        '  template:',
        '    spec:',
        '      containers: [{name: c, image: app, envFrom: [{configMapRef: {name: cfg}}]}]',
        '      volumes: [{name: v, configMap: {name: cfg}}]',
      ].join('\n'),
      'overlay/kustomization.yaml': [
        'namespace: prod',
        'resources: [../base]',
        'configMapGenerator: [{name: cfg, behavior: merge, literals: [c=d]}]',
        'patches:',
        '  - patch: |-',
        '      apiVersion: apps/v1',
        '      kind: Deployment',
        '      metadata: {name: web}',
        '      spec: {replicas: 4}',
        '  - target: {kind: Deployment, name: "w.*"}',
        '    patch: |-',
        '      - {op: add, path: /metadata/annotations, value: {a: b}}',
      ].join('\n'),
    });
    const objects = render(path.join(dir, 'overlay'));
    expect(objects.map(objectId)).toEqual([
      `v1/ConfigMap/prod/cfg-${configMapHash({ a: 'b', c: 'd' })}`,
      'apps/v1/Deployment/prod/web',
    ]);
    const [cm, web] = objects;
    expect(cm!.metadata.labels).toEqual({ team: 'a' });
    expect(get(web, 'spec', 'replicas')).toBe(4);
    expect(get(web, 'metadata', 'annotations')).toEqual({ a: 'b' });
    expect(get(web, 'spec', 'template', 'metadata', 'labels')).toEqual({ team: 'a' });
    const container = get(web, 'spec', 'template', 'spec', 'containers', 0);
    expect(get(container, 'image')).toBe('reg.example/app:1.2');
    expect(get(container, 'envFrom', 0, 'configMapRef', 'name')).toBe(cm!.metadata.name);
    expect(get(web, 'spec', 'template', 'spec', 'volumes', 0, 'configMap', 'name')).toBe(cm!.metadata.name);
  });

  it('a patch that matches nothing is an error', () => {
    const dir = tree({
      'kustomization.yaml': 'resources: [a.yaml]\npatches: [{path: p.yaml}]\n',
      'a.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\n',
      'p.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {}\n',
    });
    expect(() => render(dir)).toThrow(/matches nothing/);
  });
});

describe.each(OVERLAYS)('overlay %s', (name) => {
  const objects = render(overlay(name));

  it('renders every object of the base into its own namespace', () => {
    expect(objects.length).toBeGreaterThanOrEqual(15);
    for (const o of objects) expect(o.metadata.namespace, objectId(o)).toBe(`nestor-${name}`);
  });

  it('validates against the Kubernetes schemas', async () => {
    expect(await validateSchemas(objects)).toEqual([]);
  });

  it('has no field Kubernetes does not know (strict type check)', () => {
    expect(checkUnknownFields(objects)).toEqual([]);
  });

  it('meets our policies (hardened pods, pinned images, probes, resolvable references, TLS)', () => {
    expect(checkPolicies(objects)).toEqual([]);
  });

  it.skipIf(!kubectlKustomize)('renders exactly as `kubectl kustomize` does', () => {
    const theirs = parseAllDocuments(
      execFileSync('kubectl', ['kustomize', overlay(name)], { encoding: 'utf8' }),
    ).map((d) => d.toJS() as KObject);
    expect(objects.map(objectId)).toEqual(theirs.map(objectId));
    expect(objects).toEqual(theirs);
  });
});

describe('what each country gets', () => {
  const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, render(overlay(o))]));
  const config = (o: (typeof OVERLAYS)[number]) => renderedConfig(rendered[o]!);

  it('us: every feature and locale, 3–30 server replicas, managed data stores', () => {
    expect(config('us').features).toEqual({ technicalApi: true, dashboard: true });
    expect(config('us').locales).toEqual(['en', 'fr', 'de', 'it']);
    const hpa = find(rendered.us!, 'HorizontalPodAutoscaler', 'nestor-server');
    expect([get(hpa, 'spec', 'minReplicas'), get(hpa, 'spec', 'maxReplicas')]).toEqual([3, 30]);
    expect(get(find(rendered.us!, 'Deployment', 'nestor-server'), 'spec', 'replicas')).toBe(3);
    expect(rendered.us!.some((o) => o.kind === 'StatefulSet')).toBe(false);
  });

  it('fr: French only, no technical API, zero retention and a pseudonymous audit', () => {
    const fr = config('fr');
    expect(fr.locales).toEqual(['fr']);
    expect(fr.features.technicalApi).toBe(false);
    expect(fr.features.dashboard).toBe(true);
    expect(fr.retention.resultsSeconds).toBe(0);
    expect(fr.retention.pseudonymousAudit).toBe(true);
    expect(rendered.fr!.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name)).toEqual([
      'nestor-postgres',
      'nestor-redis',
    ]);
  });

  it('ch: French, German and Italian; neither technical API nor dashboard', () => {
    const ch = config('ch');
    expect(ch.locales).toEqual(['fr', 'de', 'it']);
    expect(ch.features).toEqual({ technicalApi: false, dashboard: false });
  });

  it.each(OVERLAYS)(
    '%s: its own host with TLS, a backup CronJob, and the server listening for the ingress',
    (o) => {
      const ingress = find(rendered[o]!, 'Ingress', 'nestor');
      expect(get(ingress, 'spec', 'rules', 0, 'host')).toBe(`nestor.${o}.example.com`);
      expect(get(ingress, 'spec', 'tls', 0, 'hosts', 0)).toBe(`nestor.${o}.example.com`);
      expect(find(rendered[o]!, 'CronJob', 'nestor-db-backup')).toBeDefined();
      expect(config(o).server.host).toBe('0.0.0.0');
    },
  );

  it.each(OVERLAYS)('%s: the server loads its config as deployed (ConfigMap + env from the Secret)', (o) => {
    const server = find(rendered[o]!, 'Deployment', 'nestor-server');
    const container = get(server, 'spec', 'template', 'spec', 'containers', 0) as JsonObject;
    const secret = (key: string) => `secret:${key}`;
    const env = Object.fromEntries(
      (container.env as JsonObject[]).map((e) => {
        const key = get(e, 'valueFrom', 'secretKeyRef', 'key');
        return [String(e.name), typeof key === 'string' ? secret(key) : String(e.value)];
      }),
    );
    const mounted = tree({
      'nestor-ai-config.json': String(
        get(find(rendered[o]!, 'ConfigMap', 'nestor-config'), 'data', 'nestor-ai-config.json'),
      ),
    });
    const { config } = loadConfig({
      env: { ...env, NESTOR_CONFIG: path.join(mounted, 'nestor-ai-config.json') },
    });
    expect(config.database.url).toBe(secret('database-url'));
    expect(config.redis.url).toBe(secret('redis-url'));
    expect(config.auth.secretKey).toBe(secret('secret-key'));
    expect(config.auth.mode).toBe('accounts');
    expect([config.server.host, config.server.port, config.server.metricsPort]).toEqual([
      '0.0.0.0',
      5050,
      9464,
    ]);
    expect(config.features).toEqual(renderedConfig(rendered[o]!).features);
  });

  it.each(OVERLAYS)('%s: the ingress lets the largest upload of its config through, streamed', (o) => {
    const ingress = find(rendered[o]!, 'Ingress', 'nestor');
    const annotations = get(ingress, 'metadata', 'annotations') as Record<string, string>;
    const { limits, jobs } = config(o);
    expect(nginxSize(annotations['nginx.ingress.kubernetes.io/proxy-body-size']!)).toBeGreaterThan(
      Math.max(limits.maxBytes, jobs.maxUploadBytes),
    );
    expect(annotations['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
  });

  it.each([
    { text: '64m', bytes: 64 * 1024 ** 2 },
    { text: '2049M', bytes: 2049 * 1024 ** 2 },
    { text: '2g', bytes: 2 * 1024 ** 3 },
    { text: '512k', bytes: 512 * 1024 },
    { text: '1000', bytes: 1000 },
    { text: '0', bytes: 0 },
    { text: '1.5g', bytes: undefined },
    { text: 'lots', bytes: undefined },
  ])('reads the nginx size $text', ({ text, bytes }) => {
    expect(nginxSize(text)).toBe(bytes);
  });

  it('an ingress that would refuse or buffer a video upload is caught', () => {
    const broken = structuredClone(rendered.fr!);
    const annotations = get(find(broken, 'Ingress', 'nestor'), 'metadata', 'annotations') as JsonObject;
    annotations['nginx.ingress.kubernetes.io/proxy-body-size'] = '64m';
    delete annotations['nginx.ingress.kubernetes.io/proxy-request-buffering'];
    expect(checkPolicies(broken).map((f) => f.message)).toEqual([
      `proxy-body-size 64m is below the largest upload the config accepts (${2 * 1024 ** 3 + 1024 ** 2} bytes)`,
      'proxy-request-buffering must be "off" (uploads would be buffered on the ingress\'s disk)',
    ]);
  });

  it('a broken manifest is caught by each check', async () => {
    const broken = structuredClone(rendered.us!);
    const server = find(broken, 'Deployment', 'nestor-server');
    const container = get(server, 'spec', 'template', 'spec', 'containers', 0) as JsonObject;
    container.readinesProbe = {};
    delete container.resources;
    (server.spec as JsonObject).replicas = 'three';
    expect((await validateSchemas(broken)).map((f) => f.message)).toEqual([
      'data/spec/replicas must be integer',
    ]);
    expect(
      checkUnknownFields(broken)
        .map((f) => f.message)
        .join('\n'),
    ).toMatch(/readinesProbe/);
    expect(checkPolicies(broken).map((f) => f.message)).toContain('container server: no requests.cpu');
  });
});
