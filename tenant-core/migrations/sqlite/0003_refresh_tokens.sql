-- Refresh tokens, one row per token issued (API.md, "Auth": rotation, logout, password change).
-- The same table as migrations/postgres/0003, in SQLite types.
--
-- A login starts a family (`family_id`, the id of its first token); each refresh retires the
-- token it was given (`rotated_at`) and adds its successor to the family. A retired token
-- presented again means a copy is in other hands: the whole family is deleted, and a token
-- whose row is gone refreshes nothing. Access tokens have no rows: they stay stateless.
CREATE TABLE refresh_tokens (
    -- The token's `jti` claim.
    jti        TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    -- When it was exchanged for its successor (NULL: still current).
    rotated_at TEXT NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id, expires_at);
