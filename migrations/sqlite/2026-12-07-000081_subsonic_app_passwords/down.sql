ALTER TABLE app_passwords DROP COLUMN secret_sealed;
