-- PostgreSQL's twin of ../sqlite/0014_post_tokens.sql (README.md says how the DDL translates).
-- Issue 12: a group check-in's link names its post by a random token (128 bits, lower-case hex),
-- never by the post's sequential number, which could be guessed or walked. Posts made before
-- this have no token: their old links open nothing (a kind "isn't open any more").
ALTER TABLE posts ADD COLUMN token TEXT;
CREATE UNIQUE INDEX posts_token ON posts (token) WHERE token IS NOT NULL;
