"""Group check-ins: schedules, posts, private answers, summaries and reminders (/schedule)."""
