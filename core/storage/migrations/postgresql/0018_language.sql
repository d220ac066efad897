-- PostgreSQL's twin of ../sqlite/0018_language.sql (README.md says how the DDL translates).
-- Issue 16: every member in their own language. A member's own choice (/language) is kept on
-- their row, so /export shows it and /forget, which deletes the row, erases it; NULL means no
-- choice: the platform's language is followed. A group's language (/group settings language) is
-- what the bot posts there in; '' means not set (English).
ALTER TABLE members ADD COLUMN language TEXT;
ALTER TABLE groups ADD COLUMN language TEXT NOT NULL DEFAULT '';
