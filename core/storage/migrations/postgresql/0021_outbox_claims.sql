-- PostgreSQL's twin of ../sqlite/0021_outbox_claims.sql (README.md says how the DDL translates).
-- Issue 17: several `unblend run` processes may share this database. A process takes the outbox
-- rows it is about to send (claimed_by: which process; claimed_until: when the claim lapses if
-- that process died without finishing), so two processes never send the same row.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
