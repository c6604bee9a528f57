import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { NestorError } from '@nestor/core';

/**
 * The server's secret key (32 random bytes, base64 in a file or NESTOR_SECRET_KEY): it encrypts
 * TOTP secrets and unopened credential pages (AES-256-GCM), and keys the HMACs of CSRF tokens,
 * renewal grants, audit pseudonyms and unknown sign-in names (sub-keys derived with HKDF, one per purpose).
 */
export interface SecretKey {
  /** Short id of the key, written into each ciphertext so a wrong key is reported as such. */
  readonly id: string;
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
  /** HMAC-SHA256 (base64url) of `message` under the sub-key of `purpose`. */
  mac(purpose: MacPurpose, message: string): string;
}

export type MacPurpose = 'csrf' | 'renewal' | 'pseudonym' | 'unknown-login';

const FORMAT = 'v1';

/** A new key, base64: what `nestor-server keygen` prints. */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64');
}

/** Parses a base64 (or 64-hex-digit) 32-byte key; the message never repeats the key. */
export function parseSecretKey(text: string, source: string): SecretKey {
  const trimmed = text.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (bytes.length !== 32) {
    throw new NestorError(
      'E_INVALID_CONFIG',
      `The secret key from ${source} must be 32 random bytes in base64 (nestor-server keygen prints one), not ${bytes.length} bytes`,
    );
  }
  return secretKeyFromBytes(bytes);
}

function secretKeyFromBytes(key: Buffer): SecretKey {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 8);
  const subKeys = new Map<MacPurpose, Buffer>();
  const subKey = (purpose: MacPurpose) => {
    let k = subKeys.get(purpose);
    if (!k) {
      k = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `nestor ${purpose}`, 32));
      subKeys.set(purpose, k);
    }
    return k;
  };
  return {
    id,
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(`${FORMAT}.${id}`));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        FORMAT,
        id,
        iv.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.');
    },
    decrypt(ciphertext) {
      const [format, keyId, iv, body, tag] = ciphertext.split('.');
      if (format !== FORMAT || !iv || !body || !tag)
        throw new NestorError('E_INTERNAL', 'A stored secret is not in the v1 format');
      if (keyId !== id) {
        throw new NestorError(
          'E_INVALID_CONFIG',
          `A stored secret was encrypted with key ${keyId}, but the configured key is ${id}: configure the right key or run nestor-server rotate-key`,
        );
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(`${FORMAT}.${id}`));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
    mac(purpose, message) {
      return createHmac('sha256', subKey(purpose)).update(message).digest('base64url');
    },
  };
}

/** SHA-256 (hex) of a random token: how sessions, API keys and links are looked up without storing them. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A random token: 32 bytes, base64url. */
export const randomToken = (): string => randomBytes(32).toString('base64url');

/** Constant-time comparison of two strings. */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
