-- PostgreSQL's twin of ../sqlite/0019_group_settings.sql (README.md says how the DDL translates).
-- Issue 14: a group setting a feature declares (core/kernel/feature.py GroupSetting) without a
-- change of its own is kept here, by name: a new setting is its declaration and its text, with
-- no column and no migration of its own. The settings older than this keep their columns on
-- `groups` (and group_safety's table). Settings of a group are the group's, not a member's.
CREATE TABLE group_settings (
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (group_id, name)
);
