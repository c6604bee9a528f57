import { randomInt } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** Characters that cannot be mistaken for one another (no 0/O/o, 1/l/I/i, |, quotes or spaces). */
export const PASSWORD_CLASSES = {
  upper: 'ABCDEFGHJKLMNPQRSTUVWXYZ',
  lower: 'abcdefghjkmnpqrstuvwxyz',
  digit: '23456789',
  special: '!#$%&*+-=?@^_',
} as const;

export const PASSWORD_LENGTH = 24;

/**
 * A password of `PASSWORD_LENGTH` characters with at least one of each class, drawn with a CSPRNG
 * (`crypto.randomInt`, uniform) and shuffled so the guaranteed characters are not at fixed places.
 */
export function generatePassword(random: (max: number) => number = randomInt): string {
  const classes = Object.values(PASSWORD_CLASSES);
  const all = classes.join('');
  const chars = classes.map((c) => c[random(c.length)]!);
  while (chars.length < PASSWORD_LENGTH) chars.push(all[random(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/** argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane): about 50 ms here. */
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2);

/** True when a stored hash is not argon2id with today's parameters: it is redone at the next sign-in. */
export const needsRehash = (passwordHash: string): boolean =>
  !passwordHash.startsWith(
    `$argon2id$v=19$m=${ARGON2.memoryCost},t=${ARGON2.timeCost},p=${ARGON2.parallelism}$`,
  );

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password);
}

/** Verifying against this costs what a real verification costs, so unknown usernames answer as slowly. */
let decoyHash: Promise<string> | undefined;
export async function verifyDecoy(password: string): Promise<void> {
  decoyHash ??= hashPassword(generatePassword());
  await verify(await decoyHash, password);
}
