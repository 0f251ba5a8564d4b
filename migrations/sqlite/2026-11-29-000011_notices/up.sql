-- Circular notices (回覧板) and safety checks (安否確認, DESIGN.md §8) share one engine: a notice
-- goes to a list of recipients, each of whom reads it and may answer its questions.

CREATE TABLE notices (
    id INTEGER PRIMARY KEY NOT NULL,
    -- 'circular' (回覧板) or 'safety' (安否確認).
    kind TEXT NOT NULL,
    -- The room it went to; NULL: a safety check for everyone on the site.
    room_id INTEGER REFERENCES rooms (id) ON DELETE CASCADE,
    sender_id INTEGER NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    body_md TEXT NOT NULL,
    body_html TEXT NOT NULL,
    -- A drill (訓練): marked everywhere, never mixed with a real check.
    drill BOOLEAN NOT NULL DEFAULT 0,
    -- JSON: the questions, [{"key", "kind", "label", "choices"}].
    questions TEXT NOT NULL,
    deadline TIMESTAMP,
    -- Automatic reminders to those who have not answered: every N minutes, at most M times.
    remind_every_minutes INTEGER NOT NULL DEFAULT 0,
    remind_max INTEGER NOT NULL DEFAULT 0,
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    next_remind_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE INDEX notices_list ON notices (kind, room_id, created_at);
CREATE INDEX notices_remind ON notices (next_remind_at);

CREATE TABLE notice_recipients (
    notice_id INTEGER NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    -- Safety checks: SHA-256 of the personal answer link's token (the token itself is only mailed).
    token_hash TEXT,
    read_at TIMESTAMP,
    answered_at TIMESTAMP,
    -- JSON object: question key -> answer.
    answer TEXT,
    -- Safety checks: safe / injured / need_help, kept apart for counting.
    condition TEXT,
    -- Set when a manager answered for the person (代理回答).
    proxy_by INTEGER REFERENCES users (id),
    reminded_at TIMESTAMP,
    PRIMARY KEY (notice_id, user_id)
);
CREATE UNIQUE INDEX notice_recipients_token ON notice_recipients (token_hash);
CREATE INDEX notice_recipients_user ON notice_recipients (user_id, answered_at);

-- Who may start a safety check for a room (besides site administrators).
CREATE TABLE safety_officers (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (room_id, user_id)
);
