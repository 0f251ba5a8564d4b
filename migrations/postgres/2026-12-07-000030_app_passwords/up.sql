-- App passwords (issue #14): per-member credentials for WebDAV (and later Subsonic) clients, which
-- never accept the login password. Each is a 256-bit random token shown once; only its HMAC-SHA256
-- under the site's secret key is kept (`secret_hash`). A revoked one keeps its row (revoked_at),
-- so it stays refused and the list still says when it was revoked.
-- `scope`: what it opens (`dav`, later `subsonic`). `last_used_at` / `last_client` (User-Agent,
-- cut to 200 characters) are written at most once a minute per password.
CREATE TABLE app_passwords (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    last_client TEXT,
    revoked_at TIMESTAMP
);
CREATE INDEX app_passwords_user ON app_passwords (user_id);
