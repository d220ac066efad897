-- PostgreSQL's twin of ../sqlite/0017_member_names.sql (README.md says how the DDL translates).
-- Issue 12: a member's name as the platform showed it, kept once, apart from the messages that
-- show it. Messages the bot stores for others (a shared line, a reach-out request, "<name> will
-- reach out", a moderator alert) carry the member's id, and the name is filled in when the
-- message is sent or exported: so /forget, which erases this row, leaves no trace of the name in
-- anybody else's stored messages or exports. Encrypted; purged with the member's retention.
CREATE TABLE member_names (
    member_id BIGINT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    name BYTEA NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX member_names_updated ON member_names (updated_at);
