-- Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
-- signed in to an account before is judged on its own failures, not by the account's lockout that
-- anyone knowing the name can cause. The token is random, so it is kept as its SHA-256; no IP
-- address or user agent is kept with it.
CREATE TABLE device_tokens (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  failed_logins int NOT NULL DEFAULT 0
);
CREATE INDEX device_tokens_user ON device_tokens (user_id);
