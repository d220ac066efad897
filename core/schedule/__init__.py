"""Group check-ins: schedules in our own tables, claimed once per local date, sent via an outbox."""
