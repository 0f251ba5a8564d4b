-- Subsonic's token authentication sends md5(password + salt), which only the secret itself can
-- check: an app password of scope `subsonic` also keeps its secret sealed (ChaCha20-Poly1305 under
-- a key derived from the site's secret.key; `Secret::seal`). Other scopes keep only the hash.
ALTER TABLE app_passwords ADD COLUMN secret_sealed TEXT;
