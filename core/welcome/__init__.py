"""The welcome flow and /consent."""
