-- A change of an account's email (issue #10): the new address takes effect only when the link mailed
-- TO it is opened, so a stolen session cannot point the account (and its password resets) at another
-- mailbox. The token's SHA-256 only; single use (used_at), time-limited, superseded by a newer request
-- and cancelled by a password change or reset.
CREATE TABLE email_changes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    new_email TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX email_changes_user ON email_changes (user_id, created_at);
