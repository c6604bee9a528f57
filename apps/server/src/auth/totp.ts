import { Secret, TOTP } from 'otpauth';

/** RFC 6238 with authenticator apps' defaults: SHA-1, 6 digits, 30 s. */
const PERIOD = 30;
const DIGITS = 6;
export const TOTP_ISSUER = 'Nestor';

/** A new 160-bit secret, base32 (what authenticator apps take). */
export const generateTotpSecret = (): string => new Secret({ size: 20 }).base32;

const totp = (secret: string, username = '') =>
  new TOTP({
    issuer: TOTP_ISSUER,
    label: username,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });

/** The `otpauth://totp/…` URI that authenticator apps read from the QR code. */
export const totpUri = (secret: string, username: string): string => totp(secret, username).toString();

/** The code for a time: what an authenticator shows (tests compute codes with it). */
export const totpCode = (secret: string, at: Date): string =>
  totp(secret).generate({ timestamp: at.getTime() });

/**
 * The time step a code belongs to when it is valid at `at` (±1 step of clock drift), else
 * undefined. The caller refuses a step not later than the last one accepted (no replay).
 */
export function totpStep(secret: string, code: string, at: Date): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totp(secret).validate({ token: code, timestamp: at.getTime(), window: 1 });
  if (delta === null) return undefined;
  return Math.floor(at.getTime() / 1000 / PERIOD) + delta;
}
