"""/days: day counters, slips and milestones, and their storage."""
