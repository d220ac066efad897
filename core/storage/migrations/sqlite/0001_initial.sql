-- Free text (notes, part names, flow answers) is stored only as AES-GCM ciphertext (BLOB).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    consent INTEGER,
    consent_at TEXT,
    country TEXT,
    UNIQUE (platform, platform_user_id)
);

CREATE TABLE checkins (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    mood INTEGER,
    urge INTEGER,
    part TEXT,
    need TEXT,
    protector TEXT,
    note BLOB
);
CREATE INDEX checkins_member_at ON checkins (member_id, at);

CREATE TABLE parts (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    name BLOB NOT NULL,
    role TEXT NOT NULL,
    notes BLOB,
    created_at TEXT NOT NULL
);
CREATE INDEX parts_member ON parts (member_id);

CREATE TABLE sessions (
    member_id INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    state BLOB NOT NULL,
    updated_at TEXT NOT NULL
);
