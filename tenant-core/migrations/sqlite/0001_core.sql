-- Core tables of every app: who can log in, the tenants, and who belongs to which tenant.
-- UUIDs are hyphenated text; timestamps fixed-width RFC 3339 text (see src/db/sqlite.rs).
CREATE TABLE companies (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id                 TEXT PRIMARY KEY,
    -- Stored lower-cased, so the unique index is case-insensitive.
    email              TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    default_company_id TEXT NULL REFERENCES companies (id) ON DELETE SET NULL,
    created_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    company_id TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (company_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id, company_id);
