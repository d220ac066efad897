"""The moderators' audit log of a group's settings (/group audit)."""
