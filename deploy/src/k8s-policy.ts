import { type Config, parseConfig } from '@nestor/core';
import type { Finding } from './k8s-validate.ts';
import type { Json, JsonObject, KObject } from './kustomize.ts';

/** The Secret every overlay expects to exist (created out of band, never committed). */
export const SECRET_NAME = 'nestor-secrets';
/** Its keys; docs/operations.md tells how to create them. */
export const SECRET_KEYS = ['database-url', 'redis-url', 'secret-key', 'postgres-password'] as const;

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const objects = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
const at = (o: Json | undefined, ...keys: string[]): Json | undefined =>
  keys.reduce<Json | undefined>((node, key) => (isObject(node) ? node[key] : undefined), o);

/** The pod template of a workload (CronJobs hold theirs in the job template). */
export function podTemplateOf(o: KObject): JsonObject | undefined {
  const template =
    o.kind === 'CronJob' ? at(o, 'spec', 'jobTemplate', 'spec', 'template') : at(o, 'spec', 'template');
  return isObject(template) ? template : undefined;
}

function labelsMatch(selector: Json | undefined, labels: Json | undefined): boolean {
  const wanted = at(selector, 'matchLabels');
  if (!isObject(wanted) || !isObject(labels)) return false;
  return Object.entries(wanted).every(([k, v]) => labels[k] === v);
}

/** ingress-nginx's size syntax (`64m`, `2g`, `1048576`) in bytes; `0` means no limit. */
export function nginxSize(text: string): number | undefined {
  const m = /^(\d+)([kmg]?)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * unit;
}

/** Room for the multipart framing and option fields around the largest upload the config accepts. */
const MULTIPART_SLACK = 1024 ** 2;

/**
 * An Ingress in front of a config must let its largest upload through (else the proxy answers 413
 * itself, with no Nestor error) and stream it (else ingress-nginx buffers the user's video on its disk).
 */
function checkUploads(ingress: KObject, config: Config, fail: (message: string) => void): void {
  const annotation = (name: string) =>
    at(ingress, 'metadata', 'annotations', `nginx.ingress.kubernetes.io/${name}`);
  const largest = Math.max(config.limits.maxBytes, config.jobs.maxUploadBytes) + MULTIPART_SLACK;
  const body = annotation('proxy-body-size');
  const bytes = typeof body === 'string' ? nginxSize(body) : undefined;
  if (bytes === undefined || (bytes !== 0 && bytes < largest)) {
    fail(`proxy-body-size ${String(body)} is below the largest upload the config accepts (${largest} bytes)`);
  }
  if (annotation('proxy-request-buffering') !== 'off') {
    fail('proxy-request-buffering must be "off" (uploads would be buffered on the ingress\'s disk)');
  }
}

/**
 * What we require of every rendering beyond the Kubernetes schemas: hardened, bounded pods,
 * pinned images, probes on the server, references (ConfigMaps, Secrets, selectors, scale targets)
 * that resolve, and TLS on the ingress.
 */
export function checkPolicies(rendered: readonly KObject[]): Finding[] {
  const findings: Finding[] = [];
  const fail = (o: KObject, message: string) =>
    findings.push({ object: `${o.kind}/${o.metadata.name}`, message });
  const configMaps = new Set(rendered.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name));
  const pvcs = new Set(
    rendered.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name),
  );
  const config = rendered.some((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('nestor-config'))
    ? renderedConfig(rendered)
    : undefined;
  const templates = rendered.flatMap((o) => {
    const t = podTemplateOf(o);
    return t && WORKLOADS.has(o.kind) ? [{ o, labels: at(t, 'metadata', 'labels') }] : [];
  });

  for (const o of rendered) {
    if (at(o, 'metadata', 'labels', 'app.kubernetes.io/part-of') !== 'nestor') fail(o, 'no part-of label');
    const template = podTemplateOf(o);
    if (!template || !WORKLOADS.has(o.kind)) continue;
    const pod = at(template, 'spec');
    if (!isObject(pod)) {
      fail(o, 'no pod spec');
      continue;
    }
    if (at(pod, 'securityContext', 'runAsNonRoot') !== true) fail(o, 'pod must set runAsNonRoot');
    if (at(pod, 'securityContext', 'seccompProfile', 'type') !== 'RuntimeDefault')
      fail(o, 'seccomp RuntimeDefault');
    if (pod.automountServiceAccountToken !== false) fail(o, 'automountServiceAccountToken must be false');
    for (const volume of objects(pod.volumes)) {
      const cm = at(volume, 'configMap', 'name');
      if (typeof cm === 'string' && !configMaps.has(cm)) fail(o, `ConfigMap ${cm} is not in the rendering`);
      const claim = at(volume, 'persistentVolumeClaim', 'claimName');
      if (typeof claim === 'string' && !pvcs.has(claim)) fail(o, `PVC ${claim} is not in the rendering`);
    }
    for (const c of [...objects(pod.containers), ...objects(pod.initContainers)]) {
      const name = `container ${String(c.name)}`;
      const image = typeof c.image === 'string' ? c.image : '';
      if (!/^[^:@]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/.test(image) || image.endsWith(':latest')) {
        fail(o, `${name}: image "${image}" is not a pinned reference`);
      }
      // Our own images are pinned by tag (set per release); third-party images by digest too.
      if (!image.startsWith('ghcr.io/nestor-project/') && !image.includes('@sha256:')) {
        fail(o, `${name}: third-party image "${image}" must be pinned by digest`);
      }
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory'] as const) {
          if (at(c, 'resources', kind, resource) === undefined) fail(o, `${name}: no ${kind}.${resource}`);
        }
      }
      if (at(c, 'securityContext', 'allowPrivilegeEscalation') !== false)
        fail(o, `${name}: allowPrivilegeEscalation`);
      if (at(c, 'securityContext', 'readOnlyRootFilesystem') !== true)
        fail(o, `${name}: root filesystem must be read-only`);
      const drop = at(c, 'securityContext', 'capabilities', 'drop');
      if (!Array.isArray(drop) || !drop.includes('ALL')) fail(o, `${name}: capabilities must drop ALL`);
      for (const env of objects(c.env)) {
        const secret = at(env, 'valueFrom', 'secretKeyRef');
        if (!isObject(secret)) continue;
        if (secret.name !== SECRET_NAME || !SECRET_KEYS.some((k) => k === secret.key)) {
          fail(
            o,
            `${name}: env ${String(env.name)} reads an undocumented secret ${String(secret.name)}/${String(secret.key)}`,
          );
        }
      }
      const serves = objects(c.ports).length > 0;
      if (serves && c.livenessProbe === undefined)
        fail(o, `${name}: serves a port but has no liveness probe`);
      if (serves && c.readinessProbe === undefined)
        fail(o, `${name}: serves a port but has no readiness probe`);
    }
    if (at(template, 'metadata', 'labels', 'app.kubernetes.io/component') === 'server') {
      const server = objects(pod.containers)[0];
      if (at(server, 'readinessProbe', 'httpGet', 'path') !== '/readyz')
        fail(o, 'server readiness probe must be /readyz');
      if (at(server, 'livenessProbe', 'httpGet', 'path') !== '/healthz')
        fail(o, 'server liveness probe must be /healthz');
    }
  }

  for (const o of rendered) {
    if (o.kind === 'Service' || o.kind === 'PodDisruptionBudget') {
      const selector =
        o.kind === 'Service' ? { matchLabels: at(o, 'spec', 'selector') ?? null } : at(o, 'spec', 'selector');
      if (!templates.some((t) => labelsMatch(selector, t.labels))) fail(o, 'selects no pod of the rendering');
    }
    if (o.kind === 'HorizontalPodAutoscaler') {
      const target = at(o, 'spec', 'scaleTargetRef');
      if (!rendered.some((w) => w.kind === at(target, 'kind') && w.metadata.name === at(target, 'name'))) {
        fail(o, 'scale target is not in the rendering');
      }
      const min = Number(at(o, 'spec', 'minReplicas'));
      const max = Number(at(o, 'spec', 'maxReplicas'));
      if (!(min >= 1 && max >= min)) fail(o, `replicas ${min}..${max} are not a range`);
    }
    if (o.kind === 'Ingress') {
      if (config) checkUploads(o, config, (message) => fail(o, message));
      const tls = objects(at(o, 'spec', 'tls'));
      const hosts = new Set(tls.flatMap((t) => (Array.isArray(t.hosts) ? t.hosts : [])));
      for (const rule of objects(at(o, 'spec', 'rules'))) {
        if (typeof rule.host !== 'string' || !hosts.has(rule.host))
          fail(o, `host ${String(rule.host)} has no TLS`);
        for (const p of objects(at(rule, 'http', 'paths'))) {
          const service = at(p, 'backend', 'service', 'name');
          if (!rendered.some((s) => s.kind === 'Service' && s.metadata.name === service)) {
            fail(o, `backend service ${String(service)} is not in the rendering`);
          }
        }
      }
    }
  }
  return findings;
}

/** The nestor-ai-config.json a rendering ships, parsed by the one config schema. */
export function renderedConfig(rendered: readonly KObject[]): Config {
  const configMaps = rendered.filter(
    (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('nestor-config'),
  );
  if (configMaps.length !== 1)
    throw new Error(`expected one nestor-config ConfigMap, found ${configMaps.length}`);
  const text = at(configMaps[0], 'data', 'nestor-ai-config.json');
  if (typeof text !== 'string') throw new Error('the ConfigMap has no nestor-ai-config.json');
  return parseConfig(JSON.parse(text), 'nestor-ai-config.json of the ConfigMap');
}
