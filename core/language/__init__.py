"""Which language each member and group is answered in, and /language."""
