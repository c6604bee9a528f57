import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { KObject } from './kustomize.ts';

/** One problem found in one object. */
export interface Finding {
  readonly object: string;
  readonly message: string;
}

const CACHE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../.cache');

/** `apps/v1` + `Deployment` → the kubernetes-models module that holds its schema and type. */
export function modelModule(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

function label(o: KObject): string {
  return `${o.kind}/${o.metadata.name}`;
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/**
 * Validates each object against the Kubernetes OpenAPI schema of its kind (kubernetes-models:
 * types, required fields, enums, formats such as int32 or quantities). A kind it does not know is
 * a finding, never a pass.
 */
export async function validateSchemas(objects: readonly KObject[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const o of objects) {
    let Model: ModelClass | undefined;
    try {
      const module = (await import(modelModule(o.apiVersion, o.kind))) as Record<string, unknown>;
      Model = module[o.kind] as ModelClass | undefined;
    } catch {
      Model = undefined;
    }
    if (!Model) {
      findings.push({ object: label(o), message: `unknown kind ${o.apiVersion} ${o.kind}` });
      continue;
    }
    try {
      new Model(o).validate();
    } catch (error) {
      findings.push({ object: label(o), message: (error as Error).message });
    }
  }
  return findings;
}

/**
 * The schemas above accept fields they do not know (Kubernetes' OpenAPI has no
 * additionalProperties: false), so a typo such as `readinesProbe` would pass them. This check
 * compiles every object as a TypeScript object literal of its kubernetes-models interface:
 * TypeScript's excess-property check rejects any unknown field, at any depth.
 */
export function checkUnknownFields(objects: readonly KObject[]): Finding[] {
  const imports = new Map<string, string>();
  const lines: string[] = [];
  const owners: string[] = [];
  for (const o of objects) {
    const module = modelModule(o.apiVersion, o.kind);
    const alias = `I${imports.size}`;
    if (!imports.has(module)) imports.set(module, alias);
    const type = imports.get(module)!;
    lines.push(`export const o${owners.length}: ${type} = ${JSON.stringify(o)};`);
    owners.push(label(o));
  }
  const head = [...imports].map(
    ([module, alias]) =>
      `import type { I${module.split('/').pop()} as ${alias} } from ${JSON.stringify(module)};`,
  );
  // Inside the workspace (a git-ignored folder) so that kubernetes-models resolves as from our code.
  mkdirSync(CACHE, { recursive: true });
  const dir = mkdtempSync(path.join(CACHE, 'k8s-'));
  const file = path.join(dir, 'objects.ts');
  writeFileSync(file, [...head, ...lines].join('\n'));
  try {
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
    });
    const source = program.getSourceFile(file)!;
    return ts.getPreEmitDiagnostics(program, source).map((d) => {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      return {
        object: owners[line - head.length] ?? 'imports',
        message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
