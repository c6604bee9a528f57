import { NestorError } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { addMonths, parseUsername } from './accounts.ts';
import { readFields, someOf, str } from './body.ts';
import { parseCookies, serializeCookie } from './cookies.ts';
import {
  generatePassword,
  hashPassword,
  needsRehash,
  PASSWORD_CLASSES,
  PASSWORD_LENGTH,
  verifyPassword,
} from './password.ts';
import { generateSecretKey, parseSecretKey } from './secrets.ts';
import { generateTotpSecret, totpCode, totpStep, totpUri } from './totp.ts';
import { createWindowLimiter } from './window-limiter.ts';

describe('generated passwords', () => {
  it('are 24 characters with every class, none of them look-alikes, and differ every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const p = generatePassword();
      expect(p).toHaveLength(PASSWORD_LENGTH);
      for (const chars of Object.values(PASSWORD_CLASSES))
        expect(
          [...p].some((c) => chars.includes(c)),
          p,
        ).toBe(true);
      expect(p).not.toMatch(/[0O1lIio|`'" \\]/);
      seen.add(p);
    }
    expect(seen.size).toBe(500);
  });

  it('hold every class even when the random source is at its extremes', () => {
    for (const random of [() => 0, (max: number) => max - 1]) {
      const p = generatePassword(random);
      for (const chars of Object.values(PASSWORD_CLASSES))
        expect([...p].some((c) => chars.includes(c))).toBe(true);
    }
  });

  it('are stored as argon2id hashes that verify only the right password', async () => {
    const p = generatePassword();
    const hash = await hashPassword(p);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, p)).toBe(true);
    expect(await verifyPassword(hash, `${p}x`)).toBe(false);
  });

  it.each([
    ['$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', false],
    ['$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA', true],
    ['$argon2id$v=19$m=19456,t=1,p=1$c2FsdHNhbHQ$aGFzaA', true],
    ['$argon2id$v=19$m=19456,t=2,p=4$c2FsdHNhbHQ$aGFzaA', true],
    ['$argon2id$v=19$m=194560,t=2,p=1$c2FsdHNhbHQ$aGFzaA', true],
    ['$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', true],
    ['$argon2d$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', true],
    ['$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', true],
  ])('a stored hash %s needs rehashing: %s', (hash, expected) => {
    expect(needsRehash(hash)).toBe(expected);
  });
});

describe('TOTP (RFC 6238)', () => {
  it('matches the RFC 6238 SHA-1 test vectors (last 6 digits)', () => {
    // Secret "12345678901234567890" in base32; the RFC lists 8-digit codes, apps show the last 6.
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    for (const [seconds, code] of [
      [59, '287082'],
      [1_111_111_109, '081804'],
      [1_234_567_890, '005924'],
      [2_000_000_000, '279037'],
    ] as const) {
      expect(totpCode(secret, new Date(seconds * 1000))).toBe(code);
    }
  });

  it('accepts the current code and ±1 step, nothing further, and names the step', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const at = new Date('2026-05-05T12:00:10Z');
    const step = Math.floor(at.getTime() / 30_000);
    expect(totpStep(secret, totpCode(secret, at), at)).toBe(step);
    expect(totpStep(secret, totpCode(secret, new Date(at.getTime() - 30_000)), at)).toBe(step - 1);
    expect(totpStep(secret, totpCode(secret, new Date(at.getTime() + 30_000)), at)).toBe(step + 1);
    expect(totpStep(secret, totpCode(secret, new Date(at.getTime() - 60_000)), at)).toBeUndefined();
    for (const bad of ['', '12345', '1234567', 'abcdef', ' 12345'])
      expect(totpStep(secret, bad, at)).toBeUndefined();
    expect(totpUri(secret, 'ada')).toBe(
      `otpauth://totp/Nestor:ada?issuer=Nestor&secret=${secret}&algorithm=SHA1&digits=6&period=30`,
    );
  });
});

describe('the secret key', () => {
  it('encrypts with AES-256-GCM: fresh IV each time, tampering and the wrong key are refused', () => {
    const key = parseSecretKey(generateSecretKey(), 'test');
    const a = key.encrypt('JBSWY3DPEHPK3PXP');
    expect(a).not.toBe(key.encrypt('JBSWY3DPEHPK3PXP'));
    expect(a).not.toContain('JBSWY3DPEHPK3PXP');
    expect(key.decrypt(a)).toBe('JBSWY3DPEHPK3PXP');
    const parts = a.split('.');
    // Flip one bit of the decoded body: rewriting base64 text can leave the bytes unchanged.
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    parts[3] = body.toString('base64url');
    expect(() => key.decrypt(parts.join('.'))).toThrow();
    const tag = Buffer.from(parts[4]!, 'base64url');
    tag[tag.length - 1]! ^= 0x80;
    expect(() =>
      key.decrypt([...parts.slice(0, 3), a.split('.')[3], tag.toString('base64url')].join('.')),
    ).toThrow();
    const other = parseSecretKey(generateSecretKey(), 'other');
    expect(() => other.decrypt(a)).toThrow(/encrypted with key .* rotate-key/);
  });

  it('accepts 32 bytes in base64 or hex and refuses anything else without echoing it', () => {
    expect(parseSecretKey('ab'.repeat(32), 'hex').id).toMatch(/^[0-9a-f]{8}$/);
    for (const bad of ['short', Buffer.alloc(16).toString('base64')]) {
      expect(() => parseSecretKey(bad, 'env')).toThrow(NestorError);
      try {
        parseSecretKey(bad, 'env');
      } catch (error) {
        expect((error as Error).message).not.toContain(bad);
      }
    }
  });

  it('derives a different MAC per purpose', () => {
    const key = parseSecretKey(generateSecretKey(), 'test');
    expect(key.mac('csrf', 'x')).not.toBe(key.mac('pseudonym', 'x'));
    expect(key.mac('csrf', 'x')).toBe(key.mac('csrf', 'x'));
  });
});

describe('small parts', () => {
  it('adds calendar months, clamping to the month end', () => {
    expect(addMonths(new Date('2026-01-15T10:00:00Z'), 6).toISOString()).toBe('2026-07-15T10:00:00.000Z');
    expect(addMonths(new Date('2026-08-31T10:00:00Z'), 6).toISOString()).toBe('2027-02-28T10:00:00.000Z');
    expect(addMonths(new Date('2027-08-31T00:00:00Z'), 6).toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });

  it('usernames are lowercase names, nothing else', () => {
    expect(parseUsername('ada.l-1_x')).toBe('ada.l-1_x');
    for (const bad of ['A', 'Ada', '-ada', 'a b', "a'--", 'é', 'a'.repeat(64)])
      expect(() => parseUsername(bad)).toThrow(/username/);
  });

  it('limits requests per key and window', () => {
    let t = 0;
    const limiter = createWindowLimiter({ perMinute: 2, now: () => new Date(t) });
    expect(limiter.take(['ip:a', 'user:1'])).toEqual({ allowed: true });
    expect(limiter.take(['ip:a', 'user:2'])).toEqual({ allowed: true });
    t = 15_000;
    expect(limiter.take(['ip:a', 'user:3'])).toEqual({ allowed: false, retryAfterSeconds: 45 });
    expect(limiter.take(['ip:b', 'user:1'])).toEqual({ allowed: true });
    expect(limiter.take(['ip:c', 'user:1'])).toEqual({ allowed: false, retryAfterSeconds: 45 });
    t = 60_000;
    expect(limiter.take(['ip:a'])).toEqual({ allowed: true });
  });

  it('reads and writes cookies', () => {
    expect(parseCookies('a=1; b="two"; a=3; c=%E2%9C%93; bad; d=%E0%A4%A')).toEqual({
      a: '1',
      b: 'two',
      c: '✓',
      d: '%E0%A4%A',
    });
    expect(serializeCookie('s', 'v/1', { httpOnly: true, secure: true, path: '/', maxAge: 60 })).toBe(
      's=v%2F1; Path=/; Max-Age=60; SameSite=Strict; HttpOnly; Secure',
    );
  });

  it('JSON bodies: unknown fields, wrong types and control characters are refused; secrets are not echoed', () => {
    const spec = { name: str(10), scopes: someOf(['detect', 'anonymize'] as const) };
    expect(readFields({ name: 'ci', scopes: ['detect'] }, spec)).toEqual({ name: 'ci', scopes: ['detect'] });
    expect(() => readFields({ name: 'ci', scopes: ['detect'], role: 'admin' }, spec)).toThrow(
      /Unknown field "role"/,
    );
    expect(() => readFields({ name: 'c\u0000i', scopes: ['detect'] }, spec)).toThrow(/printable/);
    expect(() => readFields({ name: 'ci', scopes: [] }, spec)).toThrow(/non-empty list/);
    expect(() => readFields([], spec)).toThrow(/JSON object/);
    expect(() => readFields({ password: 'hunter2hunter2' }, { password: str(5) }, ['password'])).toThrow(
      /received string$/,
    );
  });
});
