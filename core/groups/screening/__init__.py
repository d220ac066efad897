"""A group's own safety settings: its crisis terms, opt-in screening and retention (/group terms,
/group settings)."""
