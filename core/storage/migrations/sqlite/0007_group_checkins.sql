-- Group check-ins (issue 6): groups and their settings, moderators' schedules, one claim per
-- (schedule, local date), the posts made, members' private answers to them, what members chose
-- to share, a persistent outbox for every proactive send, personal reminders, volunteers and
-- reach-out requests. Member words (own prompts, shared lines, outbox payloads) are encrypted.
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    space_id TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    country TEXT NOT NULL DEFAULT '',
    summary_time TEXT NOT NULL DEFAULT '21:00',
    mod_channel TEXT NOT NULL DEFAULT '',
    volunteers INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (platform, space_id)
);

CREATE TABLE group_holidays (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    on_date TEXT NOT NULL,
    PRIMARY KEY (group_id, on_date)
);

CREATE TABLE schedules (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    at_time TEXT NOT NULL,
    timezone TEXT NOT NULL,
    days TEXT NOT NULL,
    prompt_key TEXT NOT NULL DEFAULT '',
    prompt_text BLOB,
    target TEXT NOT NULL DEFAULT '',
    paused INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX schedules_group ON schedules (group_id);

CREATE TABLE schedule_skips (
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    on_date TEXT NOT NULL,
    PRIMARY KEY (schedule_id, on_date)
);

-- Each (schedule, local date) is claimed once, in the same transaction as its outbox row.
-- outcome: 'posted', or 'missed' (too late after a restart: skipped and logged once).
CREATE TABLE schedule_claims (
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    local_date TEXT NOT NULL,
    outcome TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    UNIQUE (schedule_id, local_date)
);

-- The same for other daily sends: a group's summary, a member's reminder.
CREATE TABLE daily_claims (
    kind TEXT NOT NULL,
    ref_id INTEGER NOT NULL,
    local_date TEXT NOT NULL,
    outcome TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    UNIQUE (kind, ref_id, local_date)
);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    schedule_id INTEGER REFERENCES schedules (id) ON DELETE SET NULL,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    local_date TEXT NOT NULL,
    due_at TEXT NOT NULL,
    -- The platform's id of the posted prompt, once sent: shared lines answer it.
    message_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX posts_group_date ON posts (group_id, local_date);

-- A member's private answer to a post: numbers only, for the group's totals.
CREATE TABLE group_responses (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    mood INTEGER,
    urge INTEGER,
    reach_out INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL,
    UNIQUE (post_id, member_id)
);

-- What a member chose to share under a post: 'mood' or 'line' (the line encrypted), and
-- whether it was posted or is still waiting in the preview.
CREATE TABLE shared_items (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    line BLOB,
    state TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX shared_items_post ON shared_items (post_id);

-- Every proactive send. payload: encrypted JSON (it may hold a member's shared line).
-- state: 'pending', 'sent' or 'failed'. A crash between send and mark leaves it pending:
-- at most one duplicate.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    target TEXT NOT NULL,
    payload BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    -- Set for a post's prompt: the sent message's id is written back to posts.message_ref.
    post_id INTEGER REFERENCES posts (id) ON DELETE SET NULL,
    message_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (state, platform, next_attempt_at);

CREATE TABLE reminders (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL UNIQUE REFERENCES members (id) ON DELETE CASCADE,
    at_time TEXT NOT NULL,
    timezone TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    quiet_days TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE volunteers (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    quiet_from TEXT NOT NULL DEFAULT '',
    quiet_to TEXT NOT NULL DEFAULT '',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    created_at TEXT NOT NULL,
    UNIQUE (group_id, member_id)
);

CREATE TABLE reach_outs (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    post_id INTEGER REFERENCES posts (id) ON DELETE SET NULL,
    state TEXT NOT NULL DEFAULT 'open',
    acked_by INTEGER REFERENCES members (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX reach_outs_open ON reach_outs (state, expires_at);
