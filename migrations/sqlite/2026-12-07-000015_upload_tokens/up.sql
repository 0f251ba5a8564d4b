-- Issue #10: a resumable upload's row says who appended last. Every chunk writes a fresh random
-- token together with the new `received`, in one conditional UPDATE; a process trusts its
-- in-memory running SHA-256 only while the row still carries the token it wrote, otherwise it
-- hashes the part on disk (another process appended meanwhile).
ALTER TABLE uploads ADD COLUMN token TEXT NOT NULL DEFAULT '';
