"""/ground: the grounding exercises' menu, the practice log and its storage."""
