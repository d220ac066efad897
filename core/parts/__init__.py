"""/parts: a member's own map of their parts (IFS), its records and storage."""
