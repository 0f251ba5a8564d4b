-- New-post mail for scheduled posts (issue #3). `notified_at` records when a post's first
-- publication was announced to its room; it is set in the transaction that queues the mail, by an
-- UPDATE that only succeeds while it is still NULL, so however many `yui serve` processes run the
-- jobs loop, a post is announced exactly once, when its publish_at has passed.
ALTER TABLE room_posts ADD COLUMN notified_at TIMESTAMP;
-- Posts already public were announced when they were published (or, scheduled before this
-- release, went public unannounced): none is mailed now, late. Timestamps are UTC.
UPDATE room_posts SET notified_at = published_at
    WHERE published_at IS NOT NULL AND published_at <= (now() AT TIME ZONE 'UTC');
CREATE INDEX room_posts_notice ON room_posts (notified_at, published_at);
