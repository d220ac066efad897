-- Finished grounding exercises, for members who chose to keep history: which exercise and
-- distress/urge 0-10 before and after. No free text, so nothing here needs encrypting.
CREATE TABLE practice_log (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    exercise TEXT NOT NULL,
    before_level INTEGER,
    after_level INTEGER
);
CREATE INDEX practice_log_member_at ON practice_log (member_id, at);
