"""/history: summaries and the chart of a member's own check-ins."""
