-- PostgreSQL's twin of ../sqlite/0004_part_notes.sql (README.md says how the DDL translates).
-- A part's notes in the member's own words: where it shows up in the body, what it says,
-- what it protects. Like its name and the free `notes`, each is AES-GCM ciphertext.
ALTER TABLE parts ADD COLUMN body BYTEA;
ALTER TABLE parts ADD COLUMN says BYTEA;
ALTER TABLE parts ADD COLUMN protects BYTEA;
