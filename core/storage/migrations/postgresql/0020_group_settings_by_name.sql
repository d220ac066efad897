-- PostgreSQL's twin of ../sqlite/0020_group_settings_by_name.sql (README.md: how DDL translates).
-- Issue 14: the six settings older than 0019 join every other group setting in group_settings,
-- kept by name, so no setting is a column of `groups` and a new one needs no migration. Each
-- group's values are copied under the names `/group settings` and the audit log use (a flag as
-- 'on' or 'off'; the time it was set is not known, so the group's creation stands in), then the
-- columns go.
INSERT INTO group_settings (group_id, name, value, updated_at)
SELECT id, 'timezone', timezone, created_at FROM groups WHERE true
ON CONFLICT (group_id, name) DO NOTHING;
INSERT INTO group_settings (group_id, name, value, updated_at)
SELECT id, 'country', country, created_at FROM groups WHERE true
ON CONFLICT (group_id, name) DO NOTHING;
INSERT INTO group_settings (group_id, name, value, updated_at)
SELECT id, 'summary', summary_time, created_at FROM groups WHERE true
ON CONFLICT (group_id, name) DO NOTHING;
INSERT INTO group_settings (group_id, name, value, updated_at)
SELECT id, 'modchannel', mod_channel, created_at FROM groups WHERE true
ON CONFLICT (group_id, name) DO NOTHING;
INSERT INTO group_settings (group_id, name, value, updated_at)
SELECT id, 'volunteers', CASE WHEN volunteers <> 0 THEN 'on' ELSE 'off' END, created_at
FROM groups WHERE true
ON CONFLICT (group_id, name) DO NOTHING;
INSERT INTO group_settings (group_id, name, value, updated_at)
SELECT id, 'language', language, created_at FROM groups WHERE true
ON CONFLICT (group_id, name) DO NOTHING;

ALTER TABLE groups DROP COLUMN timezone;
ALTER TABLE groups DROP COLUMN country;
ALTER TABLE groups DROP COLUMN summary_time;
ALTER TABLE groups DROP COLUMN mod_channel;
ALTER TABLE groups DROP COLUMN volunteers;
ALTER TABLE groups DROP COLUMN language;
