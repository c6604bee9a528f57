import { NestorError } from '@nestor/core';

/** What a JSON body field may hold. */
export type FieldKind =
  | { readonly type: 'string'; readonly max: number; readonly required: boolean }
  | { readonly type: 'boolean'; readonly required: boolean }
  | { readonly type: 'enum'; readonly values: readonly string[]; readonly required: boolean }
  | { readonly type: 'enum[]'; readonly values: readonly string[]; readonly required: boolean };

type ValueOf<K extends FieldKind> = K extends { type: 'string' }
  ? string
  : K extends { type: 'boolean' }
    ? boolean
    : K extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : K extends { type: 'enum[]'; values: readonly (infer V)[] }
        ? V[]
        : never;

export type Fields<S extends Record<string, FieldKind>> = {
  [N in keyof S as S[N]['required'] extends true ? N : never]: ValueOf<S[N]>;
} & {
  [N in keyof S as S[N]['required'] extends true ? never : N]?: ValueOf<S[N]>;
};

const show = (value: unknown) =>
  typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;

/**
 * Checks a JSON body against `spec`: an unknown field is refused (no mass assignment, e.g. a
 * `role` sent to self-service sign-up), and so is a wrong type, a missing required field or a
 * string that is too long or holds control characters. Messages never repeat a secret field.
 */
export function readFields<S extends Record<string, FieldKind>>(
  body: unknown,
  spec: S,
  secret: readonly string[] = [],
): Fields<S> {
  const object = body ?? {};
  if (typeof object !== 'object' || Array.isArray(object)) {
    throw new NestorError('E_BAD_REQUEST', 'The body must be a JSON object');
  }
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(object)) {
    if (!Object.hasOwn(spec, name)) {
      throw new NestorError(
        'E_INVALID_OPTION',
        `Unknown field "${name.slice(0, 40)}": expected ${Object.keys(spec).join(', ') || 'none'}`,
      );
    }
  }
  for (const [name, kind] of Object.entries(spec)) {
    const value = (object as Record<string, unknown>)[name];
    if (value === undefined) {
      if (kind.required) throw new NestorError('E_INVALID_OPTION', `Missing field "${name}"`);
      continue;
    }
    const shown = secret.includes(name) ? typeof value : show(value);
    const bad = (expected: string) =>
      new NestorError('E_INVALID_OPTION', `Expected ${expected} for ${name} but received ${shown}`);
    switch (kind.type) {
      case 'string':
        // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
        if (typeof value !== 'string' || value.length > kind.max || /[\u0000-\u001f\u007f]/.test(value)) {
          throw bad(`a string of at most ${kind.max} printable characters`);
        }
        break;
      case 'boolean':
        if (typeof value !== 'boolean') throw bad('true or false');
        break;
      case 'enum':
        if (typeof value !== 'string' || !kind.values.includes(value))
          throw bad(`one of ${kind.values.join(', ')}`);
        break;
      case 'enum[]':
        if (
          !Array.isArray(value) ||
          value.length === 0 ||
          value.some((v) => typeof v !== 'string' || !kind.values.includes(v))
        ) {
          throw bad(`a non-empty list of ${kind.values.join(', ')}`);
        }
        break;
    }
    out[name] = value;
  }
  return out as Fields<S>;
}

export function str(max: number): { type: 'string'; max: number; required: true };
export function str(max: number, required: false): { type: 'string'; max: number; required: false };
export function str(max: number, required = true) {
  return { type: 'string', max, required } as const;
}
export const bool = () => ({ type: 'boolean', required: false }) as const;
export function oneOf<V extends string>(
  values: readonly V[],
): { type: 'enum'; values: readonly V[]; required: true };
export function oneOf<V extends string>(
  values: readonly V[],
  required: false,
): { type: 'enum'; values: readonly V[]; required: false };
export function oneOf<V extends string>(values: readonly V[], required = true) {
  return { type: 'enum', values, required } as const;
}
export const someOf = <V extends string>(values: readonly V[]) =>
  ({ type: 'enum[]', values, required: true }) as const;
