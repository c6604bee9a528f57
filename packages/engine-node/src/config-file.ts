import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, NestorError, parseConfig } from '@nestor/core';
import { DEFAULT_MODELS_DIR } from '@nestor/models';

export const CONFIG_FILE_NAME = 'nestor-ai-config.json';

/** Environment variables that override the config file (the only place Nestor reads the environment). */
const ENV_OVERRIDES: Readonly<Record<string, (c: Record<string, unknown>, v: string) => void>> = {
  NESTOR_MODELS_DIR: (c, v) => {
    c.modelsDir = v;
  },
  NESTOR_PRESET: (c, v) => {
    c.preset = v;
  },
  NESTOR_THREADS: (c, v) => {
    c.engine = { ...(c.engine as object), threads: Number(v) };
  },
  NESTOR_HOST: (c, v) => {
    c.server = { ...(c.server as object), host: v };
  },
  NESTOR_PORT: (c, v) => {
    c.server = { ...(c.server as object), port: Number(v) };
  },
  NESTOR_AUTH_MODE: (c, v) => {
    c.auth = { ...(c.auth as object), mode: v };
  },
  NESTOR_SECRET_KEY: (c, v) => {
    c.auth = { ...(c.auth as object), secretKey: v };
  },
  NESTOR_DATABASE_URL: (c, v) => {
    c.database = { ...(c.database as object), url: v };
  },
  // Like the database URL it may hold a password, so deployments pass it from a Secret.
  NESTOR_REDIS_URL: (c, v) => {
    c.redis = { ...(c.redis as object), url: v };
  },
};

export interface LoadedConfig {
  readonly config: Config;
  /** The file it came from, if any. */
  readonly file: string | undefined;
  /** Absolute models folder. */
  readonly modelsDir: string;
}

/** Looks for nestor-ai-config.json in `from` and its parents. */
export function findConfigFile(from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Loads the config once: an explicit file, else NESTOR_CONFIG, else nestor-ai-config.json found from
 * the working directory upward, else defaults; then environment overrides; then validation.
 */
export function loadConfig(
  options: { file?: string; cwd?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {},
): LoadedConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.NESTOR_CONFIG ?? findConfigFile(options.cwd ?? process.cwd());
  let raw: Record<string, unknown> = {};
  if (file) {
    if (!existsSync(file)) throw new NestorError('E_INVALID_CONFIG', `Config file ${file} does not exist`);
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new NestorError('E_INVALID_CONFIG', `Config file ${file} is not valid JSON`, { cause: error });
    }
  }
  const { $schema: _schema, ...rest } = raw;
  const merged: Record<string, unknown> = { ...rest, ...options.overrides };
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(merged, value);
  }
  const config = parseConfig(merged, file ?? 'configuration');
  const modelsDir =
    file || path.isAbsolute(config.modelsDir)
      ? path.resolve(file ? path.dirname(file) : '.', config.modelsDir)
      : DEFAULT_MODELS_DIR;
  return { config, file, modelsDir };
}
