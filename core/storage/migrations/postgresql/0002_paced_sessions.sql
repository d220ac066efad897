-- PostgreSQL's twin of ../sqlite/0002_paced_sessions.sql (README.md says how the DDL translates).
-- Paced steps move on by themselves: the time they are due is kept in the clear (no content)
-- so the pacer can find due sessions with an index instead of decrypting every session.
ALTER TABLE sessions ADD COLUMN due_at TEXT;
CREATE INDEX sessions_due ON sessions (due_at) WHERE due_at IS NOT NULL;
