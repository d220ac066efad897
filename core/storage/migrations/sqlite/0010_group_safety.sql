-- Issue 7 (brief H5): a group's own safety settings. One row per group that changed one:
-- its own crisis terms and exclusion phrases (each an encrypted JSON list; they are group
-- data, never a member's), whether the group's conversation is screened (opt-in: off until
-- its moderators turn it on), and how many days its check-in data is kept (NULL: the bot's
-- default; always under [privacy] retention_days_max).
CREATE TABLE group_safety (
    group_id INTEGER PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    terms BLOB,
    exclusions BLOB,
    screening INTEGER NOT NULL DEFAULT 0,
    retention_days INTEGER,
    updated_at TEXT NOT NULL
);
