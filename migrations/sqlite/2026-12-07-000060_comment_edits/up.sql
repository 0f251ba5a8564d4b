-- When a comment's author last changed its words (shown as 編集済み / edited); NULL if never.
ALTER TABLE post_comments ADD COLUMN edited_at TIMESTAMP;
