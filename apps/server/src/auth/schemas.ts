import { AUDIT_OUTCOMES } from '@nestor/db';

/** JSON schemas of the account routes (OpenAPI documentation and response serialisation). */
const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;

export const publicUserSchema = {
  type: 'object',
  required: ['id', 'username', 'role', 'createdAt', 'disabled', 'credentialsExpireAt', 'lockedUntil'],
  properties: {
    id: string,
    username: string,
    role: { type: 'string', enum: ['admin', 'user'] },
    createdAt: { type: 'string', format: 'date-time' },
    disabled: { type: 'boolean' },
    credentialsExpireAt: { type: 'string', format: 'date-time' },
    lockedUntil: nullableString,
  },
} as const;

export const apiKeySchema = {
  type: 'object',
  required: ['id', 'userId', 'name', 'prefix', 'scopes', 'createdAt', 'lastUsedAt', 'revokedAt'],
  properties: {
    id: string,
    userId: string,
    name: string,
    prefix: { type: 'string', description: 'The first characters of the key, to recognise it' },
    scopes: { type: 'array', items: { type: 'string', enum: ['detect', 'anonymize', 'admin'] } },
    createdAt: string,
    lastUsedAt: nullableString,
    revokedAt: nullableString,
  },
} as const;

export const linkSchema = {
  type: 'object',
  required: ['path', 'token', 'expiresAt'],
  description: 'A one-time credentials page: open the web app at `path` once, within 15 minutes',
  properties: { path: string, token: string, expiresAt: string },
} as const;

export const sessionSchema = {
  type: 'object',
  required: ['mode', 'user', 'selfService'],
  properties: {
    mode: { type: 'string', enum: ['local', 'accounts'] },
    selfService: { type: 'boolean' },
    user: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['username', 'role'],
          properties: { username: string, role: string, credentialsExpireAt: string },
        },
      ],
    },
  },
} as const;

export const loginBodySchema = {
  type: 'object',
  required: ['username', 'password', 'code'],
  additionalProperties: false,
  properties: { username: string, password: string, code: { type: 'string', pattern: '^[0-9]{6}$' } },
} as const;

export const loginResponseSchema = {
  type: 'object',
  required: ['user', 'csrfToken', 'expiresAt'],
  properties: {
    user: publicUserSchema,
    csrfToken: { type: 'string', description: 'Also in the nestor_csrf cookie; send it as x-csrf-token' },
    expiresAt: string,
  },
} as const;

export const credentialsSchema = {
  type: 'object',
  required: ['username', 'password', 'totpSecret', 'otpauthUri', 'qr', 'credentialsExpireAt'],
  properties: {
    username: string,
    password: string,
    totpSecret: { type: 'string', description: 'Base32, for typing into an authenticator by hand' },
    otpauthUri: string,
    qr: {
      type: 'object',
      required: ['otpauth', 'password'],
      properties: {
        otpauth: { type: 'string', description: 'PNG data URL of the otpauth:// URI' },
        password: { type: 'string', description: 'PNG data URL of the password' },
      },
    },
    credentialsExpireAt: string,
  },
} as const;

export const auditEntrySchema = {
  type: 'object',
  required: ['id', 'at', 'actor', 'ip', 'action', 'outcome', 'target', 'detail'],
  properties: {
    id: { type: 'integer' },
    at: string,
    actor: nullableString,
    ip: nullableString,
    action: string,
    outcome: { type: 'string', enum: [...AUDIT_OUTCOMES] },
    target: nullableString,
    detail: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  },
} as const;

export const auditQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    actor: string,
    action: string,
    outcome: { type: 'string', enum: [...AUDIT_OUTCOMES] },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    before: { type: 'integer', description: 'Entries older than this id (next page)' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
  },
} as const;

export const object = (properties: Record<string, unknown>, required: readonly string[] = []) =>
  ({ type: 'object', additionalProperties: false, required, properties }) as const;
