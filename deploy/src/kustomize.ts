import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

/**
 * A small kustomize for the subset our manifests use, so every overlay renders (and is validated)
 * on a machine without the kustomize binary: `resources` (files and folders), `namespace`,
 * `labels` (pairs, includeSelectors, includeTemplates), `configMapGenerator` (files, literals,
 * behavior create|replace|merge, name hash suffix with references rewritten), `images`
 * (newName, newTag, digest) and `patches` (strategic merge or JSON 6902, by path or inline, with
 * an optional target). Anything else in a kustomization is an error, never silently ignored.
 * Where the kustomize binary is present, a test renders every overlay with both and compares.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A Kubernetes object as read from YAML. */
export interface KObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string };
}

/** Generated ConfigMaps get their content hash appended at the very end, as kustomize does. */
const GENERATED = new WeakSet<KObject>();

export class KustomizeError extends Error {
  override name = 'KustomizeError';
}

const KNOWN_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'configMapGenerator',
  'images',
  'patches',
]);

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]);

/** kustomize's default output order (its "legacy" sort): these kinds first, in this order. */
const KIND_ORDER = [
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'CustomResourceDefinition',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Endpoints',
  'Service',
  'LimitRange',
  'PriorityClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
const KIND_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

/** Renders the kustomization in `dir` to the objects `kustomize build dir` would print. */
export function render(dir: string): KObject[] {
  const objects = build(path.resolve(dir));
  applyNameHashes(objects);
  return sortObjects(objects);
}

/** The rendered objects as one YAML stream. */
export function renderYaml(dir: string): string {
  return render(dir)
    .map((o) => stringify(o, { lineWidth: 0 }))
    .join('---\n');
}

/** `apiVersion/kind/namespace/name`: unique within a rendering. */
export function objectId(o: KObject): string {
  const ns = typeof o.metadata.namespace === 'string' ? o.metadata.namespace : '';
  return `${o.apiVersion}/${o.kind}/${ns}/${o.metadata.name}`;
}

function build(dir: string): KObject[] {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => path.join(dir, f))
    .find((f) => existsSync(f));
  if (!file) throw new KustomizeError(`${dir}: no kustomization.yaml`);
  const k = asObject(parseYamlDocs(readFileSync(file, 'utf8'), file)[0] ?? {}, file);
  for (const key of Object.keys(k)) {
    if (!KNOWN_FIELDS.has(key)) throw new KustomizeError(`${file}: unsupported field "${key}"`);
  }
  if (k.kind !== undefined && k.kind !== 'Kustomization') {
    throw new KustomizeError(`${file}: kind must be Kustomization`);
  }

  let objects: KObject[] = [];
  for (const entry of asArray(k.resources ?? [], `${file} resources`)) {
    const target = path.resolve(dir, asString(entry, `${file} resources[]`));
    objects.push(...(statSync(target).isDirectory() ? build(target) : readObjects(target)));
  }
  for (const generator of asArray(k.configMapGenerator ?? [], `${file} configMapGenerator`)) {
    objects = generateConfigMap(objects, asObject(generator, `${file} configMapGenerator[]`), dir, file);
  }
  for (const patch of asArray(k.patches ?? [], `${file} patches`)) {
    applyPatch(objects, asObject(patch, `${file} patches[]`), dir, file);
  }
  if (k.namespace !== undefined) {
    const namespace = asString(k.namespace, `${file} namespace`);
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = namespace;
  }
  for (const label of asArray(k.labels ?? [], `${file} labels`)) {
    applyLabels(objects, asObject(label, `${file} labels[]`), file);
  }
  for (const image of asArray(k.images ?? [], `${file} images`)) {
    applyImage(objects, asObject(image, `${file} images[]`), file);
  }
  assertUnique(objects, file);
  return objects;
}

function readObjects(file: string): KObject[] {
  return parseYamlDocs(readFileSync(file, 'utf8'), file).map((doc) => asKObject(doc, file));
}

function parseYamlDocs(text: string, file: string): Json[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new KustomizeError(`${file}: ${doc.errors[0]!.message}`);
      return doc.toJS() as Json;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

function asKObject(value: Json, where: string): KObject {
  const o = asObject(value, where);
  const metadata = o.metadata;
  if (
    typeof o.apiVersion !== 'string' ||
    typeof o.kind !== 'string' ||
    !isObject(metadata) ||
    typeof metadata.name !== 'string'
  ) {
    throw new KustomizeError(`${where}: an object needs apiVersion, kind and metadata.name`);
  }
  return o as KObject;
}

function assertUnique(objects: readonly KObject[], file: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = objectId(o);
    if (seen.has(id)) throw new KustomizeError(`${file}: ${id} is defined twice`);
    seen.add(id);
  }
}

// --- configMapGenerator ------------------------------------------------------------------------

function generateConfigMap(objects: KObject[], g: JsonObject, dir: string, file: string): KObject[] {
  const allowed = new Set(['name', 'files', 'literals', 'behavior']);
  for (const key of Object.keys(g)) {
    if (!allowed.has(key)) throw new KustomizeError(`${file}: configMapGenerator "${key}" is not supported`);
  }
  const name = asString(g.name, `${file} configMapGenerator name`);
  const data: Record<string, string> = {};
  for (const entry of asArray(g.files ?? [], `${file} files`)) {
    const spec = asString(entry, `${file} files[]`);
    const [key, source] = spec.includes('=') ? spec.split('=', 2) : [path.basename(spec), spec];
    data[key!] = readFileSync(path.resolve(dir, source!), 'utf8');
  }
  for (const entry of asArray(g.literals ?? [], `${file} literals[]`)) {
    const literal = asString(entry, `${file} literals[]`);
    const at = literal.indexOf('=');
    if (at < 1) throw new KustomizeError(`${file}: literal "${literal}" is not key=value`);
    data[literal.slice(0, at)] = literal.slice(at + 1);
  }
  const behavior = asString(g.behavior ?? 'create', `${file} behavior`);
  const existing = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  if (behavior === 'create') {
    if (existing)
      throw new KustomizeError(`${file}: ConfigMap ${name} exists; use behavior replace or merge`);
    const created: KObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
    GENERATED.add(created);
    return [...objects, created];
  }
  if (!existing) throw new KustomizeError(`${file}: no ConfigMap ${name} to ${behavior}`);
  if (behavior === 'replace') existing.data = data;
  else if (behavior === 'merge') existing.data = { ...asObject(existing.data ?? {}, name), ...data };
  else throw new KustomizeError(`${file}: unknown behavior "${behavior}"`);
  return objects;
}

/**
 * kustomize's content hash of a ConfigMap: sha256 of Go's JSON encoding of {data, kind, name}
 * (keys sorted, HTML characters escaped), its first 10 hex digits with 0 1 3 a e made consonants.
 * kustomize 5 looks the name up under a key that never exists, so its hash always has an empty
 * name; we do the same so that both print the same names.
 */
export function configMapHash(data: Readonly<Record<string, string>>): string {
  const sorted = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((k) => [k, data[k]]),
  );
  const json = goJson({ data: sorted, kind: 'ConfigMap', name: '' });
  const hex = createHash('sha256').update(json).digest('hex').slice(0, 10);
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex].map((c) => swap[c] ?? c).join('');
}

function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function applyNameHashes(objects: KObject[]): void {
  const renamed = new Map<string, string>();
  for (const o of objects) {
    if (!GENERATED.has(o)) continue;
    const data = asObject(o.data ?? {}, o.metadata.name) as Record<string, string>;
    const hashed = `${o.metadata.name}-${configMapHash(data)}`;
    renamed.set(o.metadata.name, hashed);
    o.metadata.name = hashed;
  }
  if (renamed.size === 0) return;
  for (const o of objects) {
    for (const pod of podSpecs(o)) {
      for (const volume of objectsIn(pod.volumes)) {
        renameRef(volume.configMap, renamed);
        const projected = volume.projected;
        if (isObject(projected)) {
          for (const source of objectsIn(projected.sources)) renameRef(source.configMap, renamed);
        }
      }
      for (const container of containersOf(pod)) {
        for (const from of objectsIn(container.envFrom)) renameRef(from.configMapRef, renamed);
        for (const env of objectsIn(container.env)) {
          if (isObject(env.valueFrom)) renameRef(env.valueFrom.configMapKeyRef, renamed);
        }
      }
    }
  }
}

function renameRef(ref: Json | undefined, renamed: ReadonlyMap<string, string>): void {
  if (isObject(ref) && typeof ref.name === 'string') ref.name = renamed.get(ref.name) ?? ref.name;
}

// --- transformers ----------------------------------------------------------------------------

/** Where each workload kind keeps its pod template. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

function podTemplate(o: KObject): JsonObject | undefined {
  const where = TEMPLATE_PATHS[o.kind];
  if (!where) return undefined;
  let node: Json | undefined = o;
  for (const key of where) node = isObject(node) ? node[key] : undefined;
  return isObject(node) ? node : undefined;
}

function podSpecs(o: KObject): JsonObject[] {
  if (o.kind === 'Pod') return isObject(o.spec) ? [o.spec] : [];
  const template = podTemplate(o);
  return template && isObject(template.spec) ? [template.spec] : [];
}

function containersOf(pod: JsonObject): JsonObject[] {
  return [
    ...objectsIn(pod.containers),
    ...objectsIn(pod.initContainers),
    ...objectsIn(pod.ephemeralContainers),
  ];
}

function applyLabels(objects: readonly KObject[], spec: JsonObject, file: string): void {
  for (const key of Object.keys(spec)) {
    if (!['pairs', 'includeSelectors', 'includeTemplates'].includes(key)) {
      throw new KustomizeError(`${file}: labels "${key}" is not supported`);
    }
  }
  const pairs = asObject(spec.pairs ?? {}, `${file} labels pairs`);
  const selectors = spec.includeSelectors === true;
  const templates = selectors || spec.includeTemplates === true;
  const add = (holder: JsonObject, key: string) => {
    holder[key] = { ...asObject(holder[key] ?? {}, key), ...pairs };
  };
  for (const o of objects) {
    add(o.metadata, 'labels');
    if (templates) for (const template of labelledTemplates(o)) add(template, 'labels');
    if (selectors) throw new KustomizeError(`${file}: labels includeSelectors is not supported`);
  }
}

/** The metadata of templates that labels with includeTemplates reach (as kustomize's field specs). */
function labelledTemplates(o: KObject): JsonObject[] {
  const metadataOf = (holder: JsonObject) => (holder.metadata = asObject(holder.metadata ?? {}, o.kind));
  const out: JsonObject[] = [];
  const template = podTemplate(o);
  if (template) out.push(metadataOf(template));
  const spec = isObject(o.spec) ? o.spec : undefined;
  if (o.kind === 'CronJob' && spec && isObject(spec.jobTemplate)) out.push(metadataOf(spec.jobTemplate));
  if (o.kind === 'StatefulSet' && spec) out.push(...objectsIn(spec.volumeClaimTemplates).map(metadataOf));
  return out;
}

function applyImage(objects: readonly KObject[], spec: JsonObject, file: string): void {
  for (const key of Object.keys(spec)) {
    if (!['name', 'newName', 'newTag', 'digest'].includes(key)) {
      throw new KustomizeError(`${file}: images "${key}" is not supported`);
    }
  }
  const name = asString(spec.name, `${file} images name`);
  for (const o of objects) {
    for (const pod of podSpecs(o)) {
      for (const container of containersOf(pod)) {
        if (typeof container.image !== 'string') continue;
        const image = parseImage(container.image);
        if (image.name !== name) continue;
        const newName = spec.newName === undefined ? image.name : asString(spec.newName, 'newName');
        if (spec.digest !== undefined) container.image = `${newName}@${asString(spec.digest, 'digest')}`;
        else if (spec.newTag !== undefined) container.image = `${newName}:${asString(spec.newTag, 'newTag')}`;
        else container.image = `${newName}${image.rest}`;
      }
    }
  }
}

/** `registry:5000/name:tag@digest` → the name (with registry) and what follows it. */
function parseImage(image: string): { name: string; rest: string } {
  const at = image.indexOf('@');
  const beforeDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = beforeDigest.lastIndexOf(':');
  const end = colon > beforeDigest.lastIndexOf('/') ? colon : beforeDigest.length;
  return { name: image.slice(0, end), rest: image.slice(end) };
}

// --- patches ---------------------------------------------------------------------------------

function applyPatch(objects: readonly KObject[], spec: JsonObject, dir: string, file: string): void {
  for (const key of Object.keys(spec)) {
    if (!['path', 'patch', 'target'].includes(key)) {
      throw new KustomizeError(`${file}: patches "${key}" is not supported`);
    }
  }
  const source =
    spec.path !== undefined
      ? readFileSync(path.resolve(dir, asString(spec.path, `${file} patch path`)), 'utf8')
      : asString(spec.patch, `${file} patch`);
  const docs = parseYamlDocs(source, file);
  const target = spec.target === undefined ? undefined : asObject(spec.target, `${file} target`);
  if (docs.length === 1 && Array.isArray(docs[0])) {
    if (!target) throw new KustomizeError(`${file}: a JSON 6902 patch needs a target`);
    const ops = docs[0];
    for (const o of matching(objects, target, file)) applyJson6902(o, ops, file);
    return;
  }
  for (const doc of docs) {
    const patch = asKObject(doc, file);
    const targets = target
      ? matching(objects, target, file)
      : objects.filter((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
    if (targets.length === 0) {
      throw new KustomizeError(`${file}: the patch of ${patch.kind} ${patch.metadata.name} matches nothing`);
    }
    for (const o of targets) {
      const { metadata, ...rest } = patch;
      const { name: _name, ...metaRest } = metadata;
      strategicMerge(o, { ...rest, metadata: metaRest }, '');
    }
  }
}

function matching(objects: readonly KObject[], target: JsonObject, file: string): KObject[] {
  for (const key of Object.keys(target)) {
    if (!['kind', 'name', 'group', 'version', 'namespace'].includes(key)) {
      throw new KustomizeError(`${file}: patch target "${key}" is not supported`);
    }
  }
  // kustomize reads target.name and target.namespace as anchored regular expressions.
  const re = (v: Json | undefined) =>
    v === undefined ? undefined : new RegExp(`^(?:${asString(v, 'target')})$`);
  const name = re(target.name);
  const namespace = re(target.namespace);
  const found = objects.filter((o) => {
    const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
    return (
      (target.kind === undefined || target.kind === o.kind) &&
      (target.group === undefined || target.group === group) &&
      (target.version === undefined || target.version === version) &&
      (!name || name.test(o.metadata.name)) &&
      (!namespace || namespace.test(String(o.metadata.namespace ?? '')))
    );
  });
  if (found.length === 0)
    throw new KustomizeError(`${file}: patch target ${JSON.stringify(target)} matches nothing`);
  return found;
}

/** List fields merged element by element (Kubernetes' patchMergeKey); other lists are replaced. */
function mergeKeyOf(field: string, items: readonly Json[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

/** Strategic merge: maps merge, `null` deletes a key, keyed lists merge by their key, others replace. */
export function strategicMerge(target: JsonObject, patch: JsonObject, where: string): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (value === null) {
      delete target[key];
    } else if (isObject(value) && isObject(current)) {
      strategicMerge(current, value, `${where}.${key}`);
    } else if (Array.isArray(value) && Array.isArray(current)) {
      const mergeKey = mergeKeyOf(key, [...current, ...value]);
      target[key] = mergeKey ? mergeList(current, value, mergeKey, `${where}.${key}`) : value;
    } else {
      target[key] = value;
    }
  }
}

function mergeList(current: Json[], patch: Json[], key: string, where: string): Json[] {
  const out = [...current];
  for (const item of patch) {
    if (!isObject(item) || item[key] === undefined) throw new KustomizeError(`${where}: items need "${key}"`);
    const at = out.findIndex((c) => isObject(c) && c[key] === item[key]);
    const { $patch: directive, ...rest } = item;
    if (directive === 'delete') {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) {
      strategicMerge(out[at] as JsonObject, rest, where);
    } else {
      out.push(rest);
    }
  }
  return out;
}

/** RFC 6902 on one object: add, remove, replace, move, copy, test. */
export function applyJson6902(o: JsonObject, ops: readonly Json[], file: string): void {
  for (const raw of ops) {
    const op = asObject(raw, `${file} JSON patch op`);
    const kind = asString(op.op, `${file} op`);
    const pathTokens = pointer(asString(op.path, `${file} path`));
    switch (kind) {
      case 'add':
        put(o, pathTokens, clone(op.value ?? null), 'add', file);
        break;
      case 'replace':
        put(o, pathTokens, clone(op.value ?? null), 'replace', file);
        break;
      case 'remove':
        take(o, pathTokens, file);
        break;
      case 'move':
        put(o, pathTokens, take(o, pointer(asString(op.from, 'from')), file), 'add', file);
        break;
      case 'copy':
        put(o, pathTokens, clone(get(o, pointer(asString(op.from, 'from')), file)), 'add', file);
        break;
      case 'test':
        if (JSON.stringify(get(o, pathTokens, file)) !== JSON.stringify(op.value)) {
          throw new KustomizeError(`${file}: test failed at ${String(op.path)}`);
        }
        break;
      default:
        throw new KustomizeError(`${file}: unknown op "${kind}"`);
    }
  }
}

function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new KustomizeError(`bad JSON pointer "${p}"`);
  return p
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(o: JsonObject, tokens: readonly string[], file: string): Json {
  let node: Json = o;
  for (const t of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node)
      ? node[Number(t)]
      : isObject(node)
        ? node[t]
        : undefined;
    if (next === undefined) throw new KustomizeError(`${file}: /${tokens.join('/')} does not exist`);
    node = next;
  }
  return node;
}

function get(o: JsonObject, tokens: readonly string[], file: string): Json {
  const parent = parentOf(o, tokens, file);
  const last = tokens[tokens.length - 1]!;
  const value = Array.isArray(parent) ? parent[Number(last)] : isObject(parent) ? parent[last] : undefined;
  if (value === undefined) throw new KustomizeError(`${file}: /${tokens.join('/')} does not exist`);
  return value;
}

function put(
  o: JsonObject,
  tokens: readonly string[],
  value: Json,
  mode: 'add' | 'replace',
  file: string,
): void {
  const parent = parentOf(o, tokens, file);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length - (mode === 'replace' ? 1 : 0)) {
      throw new KustomizeError(`${file}: index ${last} out of range at /${tokens.join('/')}`);
    }
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) {
    if (mode === 'replace' && !(last in parent)) {
      throw new KustomizeError(`${file}: /${tokens.join('/')} does not exist`);
    }
    parent[last] = value;
  } else {
    throw new KustomizeError(`${file}: /${tokens.join('/')} has no parent object`);
  }
}

function take(o: JsonObject, tokens: readonly string[], file: string): Json {
  const value = get(o, tokens, file);
  const parent = parentOf(o, tokens, file);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return value;
}

// --- helpers ---------------------------------------------------------------------------------

function sortObjects(objects: KObject[]): KObject[] {
  const rank = (kind: string) => {
    const first = KIND_ORDER.indexOf(kind);
    if (first >= 0) return first;
    const last = KIND_LAST.indexOf(kind);
    return last >= 0 ? KIND_ORDER.length + 1 + last : KIND_ORDER.length;
  };
  return objects
    .map((o, index) => ({ o, index }))
    .sort((a, b) => {
      const byRank = rank(a.o.kind) - rank(b.o.kind);
      if (byRank !== 0) return byRank;
      // Among kinds outside the list kustomize sorts by kind, then by name.
      if (a.o.kind !== b.o.kind) return a.o.kind < b.o.kind ? -1 : 1;
      if (a.o.metadata.name !== b.o.metadata.name) return a.o.metadata.name < b.o.metadata.name ? -1 : 1;
      return a.index - b.index;
    })
    .map(({ o }) => o);
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectsIn(value: Json | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function asObject(value: Json | undefined, where: string): JsonObject {
  if (!isObject(value)) throw new KustomizeError(`${where}: expected a mapping`);
  return value;
}

function asArray(value: Json | undefined, where: string): Json[] {
  if (!Array.isArray(value)) throw new KustomizeError(`${where}: expected a list`);
  return value;
}

function asString(value: Json | undefined, where: string): string {
  if (typeof value !== 'string') throw new KustomizeError(`${where}: expected a string`);
  return value;
}

function clone(value: Json): Json {
  return structuredClone(value);
}
