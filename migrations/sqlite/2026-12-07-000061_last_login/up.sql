-- When each account last logged in (the admin's member list shows it; NULL = never since this
-- version). Filled from the audit log's logins for accounts that have them.
ALTER TABLE users ADD COLUMN last_login_at TIMESTAMP;
UPDATE users SET last_login_at = (SELECT MAX(at) FROM audit_log WHERE audit_log.actor_id = users.id AND audit_log.action = 'login');
