-- E-mail ownership and invitations (API.md, "Auth" and "Companies and members").
-- UUIDs are hyphenated text; timestamps fixed-width RFC 3339 text (see src/db/sqlite.rs).

-- When the user proved they receive mail at `email` (NULL: not yet).
ALTER TABLE users ADD COLUMN email_verified_at TEXT NULL;

-- Outstanding verification tokens. Only a SHA-256 digest of each token is kept, so a copy of
-- the database verifies nobody's address; a row is deleted when used (single use).
CREATE TABLE email_verifications (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address the token was sent to: a token proves only that one.
    email      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX email_verifications_user_idx ON email_verifications (user_id);

-- Pending invitations to join a company; deleted when accepted, declined or revoked. One per
-- address and company: inviting the address again renews it.
CREATE TABLE invitations (
    id         TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    invited_by TEXT NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE UNIQUE INDEX invitations_company_email_key ON invitations (company_id, email);
CREATE INDEX invitations_email_idx ON invitations (email);
