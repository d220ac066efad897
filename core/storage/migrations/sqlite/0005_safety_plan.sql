-- A member's own Stanley-Brown safety plan: one row per written section, the text encrypted.
CREATE TABLE safety_plan_sections (
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    body BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (member_id, section)
);
