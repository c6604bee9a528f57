-- Accounts, their credentials, web sessions, API keys, one-time credential links and the audit log.
-- Secrets are never stored in clear: argon2id password hashes, AES-256-GCM TOTP secrets, SHA-256
-- hashes of session ids, API keys and link tokens (all three are random, so a fast hash is enough).

CREATE TABLE users (
  id uuid PRIMARY KEY,
  username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
  role text NOT NULL CHECK (role IN ('admin', 'user')),
  created_at timestamptz NOT NULL,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  disabled_at timestamptz,
  password_hash text NOT NULL,
  totp_secret text NOT NULL,
  credentials_issued_at timestamptz NOT NULL,
  credentials_expire_at timestamptz NOT NULL,
  -- The highest TOTP time step accepted: a code (or an older one) is never accepted twice.
  last_totp_step bigint NOT NULL DEFAULT 0,
  failed_logins int NOT NULL DEFAULT 0,
  locked_until timestamptz
);

CREATE TABLE credential_links (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('enrol', 'renewal')),
  -- The new password, encrypted, until the page is opened once; then erased.
  password_secret text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX credential_links_user ON credential_links (user_id);

CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  -- The first characters of the key, shown in listings so its owner can recognise it.
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  scopes text[] NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  -- A username, or a keyed-hash pseudonym when the deployment asks for pseudonymous audit.
  actor text,
  ip text,
  action text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
  target text,
  -- Counts and error codes only: never image data, never a secret.
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
