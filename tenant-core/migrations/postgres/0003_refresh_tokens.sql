-- Refresh tokens, one row per token issued (API.md, "Auth": rotation, logout, password change).
-- The same table as migrations/sqlite/0003, in PostgreSQL types.
--
-- A login starts a family (`family_id`, the id of its first token); each refresh retires the
-- token it was given (`rotated_at`) and adds its successor to the family. A retired token
-- presented again means a copy is in other hands: the whole family is deleted, and a token
-- whose row is gone refreshes nothing. Access tokens have no rows: they stay stateless.
CREATE TABLE refresh_tokens (
    -- The token's `jti` claim.
    jti        UUID PRIMARY KEY,
    family_id  UUID NOT NULL,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    -- When it was exchanged for its successor (NULL: still current).
    rotated_at TIMESTAMPTZ NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id, expires_at);
