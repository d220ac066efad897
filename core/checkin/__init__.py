"""/checkin: a member's private check-in (mood, urge, parts, a note), its records and storage."""
