-- /days: counters a member names (the name encrypted) and the slips on them, kept with
-- their date so history is never wiped. `celebrated` is the highest milestone already shown
-- for the current run.
CREATE TABLE day_counters (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    name BLOB NOT NULL,
    started_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    celebrated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX day_counters_member ON day_counters (member_id);

CREATE TABLE day_slips (
    id INTEGER PRIMARY KEY,
    counter_id INTEGER NOT NULL REFERENCES day_counters (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    on_date TEXT NOT NULL,
    at TEXT NOT NULL,
    note BLOB
);
CREATE INDEX day_slips_member_date ON day_slips (member_id, on_date);
CREATE INDEX day_slips_counter ON day_slips (counter_id);
