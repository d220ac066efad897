-- PostgreSQL's twin of ../sqlite/0015_mod_channels.sql (README.md says how the DDL translates).
-- Issue 12: a group's moderators' channel belongs to the group. It is checked with the platform
-- when set (Discord: a channel of the same server; Telegram: the group itself, one of its
-- topics, or another chat where the bot is and the moderator setting it is an admin) and
-- re-checked before each use. A Telegram value naming another chat (an id starting with "-")
-- stored before this rule was never checked, and who set it is not known, so it cannot be
-- checked now: it is cleared. The group's moderators see "none" in /group settings and can
-- set it again. Discord values stay: each is re-checked against the server before use.
UPDATE groups SET mod_channel = ''
WHERE platform = 'telegram' AND mod_channel LIKE '-%' AND mod_channel <> space_id;
