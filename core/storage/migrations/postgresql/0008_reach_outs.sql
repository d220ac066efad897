-- PostgreSQL's twin of ../sqlite/0008_reach_outs.sql (README.md says how the DDL translates).
-- Reach-outs, volunteers, moderator alerts and gone channels (issues 6 and 7).
--
-- reach_outs (from 0007) gains: a random token that the "I'll reach out" button carries (so
-- only those who were sent the request can take it), where it was sent ('volunteers' or
-- 'moderators'), and when it was taken. Nothing a member wrote is stored here: the request's
-- words live only in its outbox rows (encrypted), addressed to whoever was asked.
ALTER TABLE reach_outs ADD COLUMN token TEXT NOT NULL DEFAULT '';
ALTER TABLE reach_outs ADD COLUMN sent_to TEXT NOT NULL DEFAULT '';
ALTER TABLE reach_outs ADD COLUMN acked_at TEXT;
CREATE INDEX reach_outs_member ON reach_outs (member_id, group_id, state);
CREATE INDEX reach_outs_token ON reach_outs (token);

-- Which groups a member belongs to: groups where they used a command or answered a post.
-- "Tell a moderator" reaches the moderators of these groups; /volunteer is offered for them.
CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member ON group_members (member_id);

-- A schedule paused because its channel is gone (deleted, or the bot was removed): why and
-- when, and whether the group's moderators have been told (once, at their next command).
CREATE TABLE schedule_gone (
    schedule_id BIGINT PRIMARY KEY REFERENCES schedules (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    told BIGINT NOT NULL DEFAULT 0
);
