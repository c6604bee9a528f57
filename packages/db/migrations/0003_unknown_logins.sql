-- Failed sign-ins under names that are no account, counted and locked like an account's, so that a
-- lockout does not tell which usernames exist. The name is a keyed hash: people type passwords there.
CREATE TABLE unknown_logins (
  name_mac text PRIMARY KEY,
  failed_logins int NOT NULL,
  locked_until timestamptz,
  updated_at timestamptz NOT NULL
);
