-- PostgreSQL's twin of ../sqlite/0010_group_safety.sql (README.md says how the DDL translates).
-- Issue 7 (brief H5): a group's own safety settings. One row per group that changed one:
-- its own crisis terms and exclusion phrases (each an encrypted JSON list; they are group
-- data, never a member's), whether the group's conversation is screened (opt-in: off until
-- its moderators turn it on), and how many days its check-in data is kept (NULL: the bot's
-- default; always under [privacy] retention_days_max).
CREATE TABLE group_safety (
    group_id BIGINT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    terms BYTEA,
    exclusions BYTEA,
    screening BIGINT NOT NULL DEFAULT 0,
    retention_days BIGINT,
    updated_at TEXT NOT NULL
);
