DROP INDEX rooms_private_owner;
ALTER TABLE rooms DROP COLUMN owner_id;
