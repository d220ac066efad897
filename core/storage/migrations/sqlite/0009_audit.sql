-- Issue 7: the moderators' audit log, and what /forget needs to take a member's shared lines
-- back out of their groups.
--
-- audit_log: every moderator change to a group's schedules and settings: who (the member id and
-- the handle they had then, encrypted), what (an action and the old -> new value, encrypted:
-- a value may be the group's own prompt text), when. /forget of a moderator clears who
-- (shown as "a former member") and keeps the change. Purged after the retention hard cap.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    actor_id INTEGER REFERENCES members (id) ON DELETE SET NULL,
    actor_name BLOB,
    action TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    old_value BLOB,
    new_value BLOB,
    at TEXT NOT NULL
);
CREATE INDEX audit_log_group ON audit_log (group_id, at);

-- The platform's id of a shared item's message once it was posted, and when: /forget deletes
-- it where the platform allows (Telegram: within 48 hours).
ALTER TABLE shared_items ADD COLUMN message_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE shared_items ADD COLUMN posted_at TEXT;

-- Which shared item an outbox row carries (its message id is written back, like a post's), and
-- which member a row is about or addressed to (a reminder, a shared line): /export shows these,
-- /forget erases them.
ALTER TABLE outbox ADD COLUMN share_id INTEGER REFERENCES shared_items (id) ON DELETE SET NULL;
ALTER TABLE outbox ADD COLUMN member_id INTEGER REFERENCES members (id) ON DELETE CASCADE;
CREATE INDEX outbox_member ON outbox (member_id);
