-- Issue 17: several `unblend run` processes may share one (PostgreSQL) database. A process takes
-- the outbox rows it is about to send (claimed_by: which process; claimed_until: when the claim
-- lapses if that process died without finishing), so two processes never send the same row.
-- SQLite has one process, which claims too: one query set for both engines.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
