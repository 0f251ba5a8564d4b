-- Reachability (issue #5): besides the account's own email a member may register more addresses (up
-- to three in all), each verified by a mailed link; an address the outbox gave up on permanently is
-- marked bouncing until a later mail gets through or the address is verified again.

-- One row per (member, address). `extra` rows are the addresses a member added; a row with `extra`
-- false only carries the status of the account's own email (made when a test is sent to it or a mail
-- to it bounces). Addresses compare case-insensitively through `address_key` (lower case).
CREATE TABLE contact_addresses (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    address_key TEXT NOT NULL,
    extra BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    verified_at TIMESTAMP,
    bouncing_at TIMESTAMP,
    bounce_error TEXT
);
CREATE UNIQUE INDEX contact_addresses_user ON contact_addresses (user_id, address_key);
CREATE INDEX contact_addresses_key ON contact_addresses (address_key);

-- Verification links: the token's SHA-256 only, single use, time-limited. `user_id` stays when the
-- address is removed (contact_id becomes NULL and the link dead), so tests sent per hour can be counted.
CREATE TABLE contact_tokens (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id INTEGER REFERENCES contact_addresses (id) ON DELETE SET NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX contact_tokens_user ON contact_tokens (user_id, created_at);
CREATE INDEX contact_tokens_contact ON contact_tokens (contact_id);
