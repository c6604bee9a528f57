/** What the account routes answer, shared by the server and the web app. Never a hash or a secret. */

export type Role = 'admin' | 'user';
export type ApiKeyScope = 'detect' | 'anonymize' | 'admin';

/** A user as any response shows it: never a hash or a secret. */
export interface PublicUser {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly disabled: boolean;
  readonly credentialsExpireAt: string;
  readonly lockedUntil: string | null;
}

export interface PublicApiKey {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly prefix: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** A one-time credentials page: `/credentials#<token>` in the web app. */
export interface CredentialsLink {
  readonly token: string;
  readonly path: string;
  readonly expiresAt: string;
}

/** What the one-time page shows, once. */
export interface IssuedCredentials {
  readonly username: string;
  readonly password: string;
  readonly totpSecret: string;
  readonly otpauthUri: string;
  /** PNG data URLs: the otpauth:// URI for authenticator apps, and the password. */
  readonly qr: { readonly otpauth: string; readonly password: string };
  readonly credentialsExpireAt: string;
}
