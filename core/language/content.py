"""The content /language needs: each message key it uses with its placeholders, and its flows.
`unblend content check` holds every locale to it (issue 14)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # every member in their own language (issue 16): content/<locale>/messages/languages.toml
    "language.name": "",
    "language.english_name": "",
    "language.ask": "language",
    "language.follow_platform": "",
    "language.saved": "",
    "language.following": "language",
    "language.unknown": "got languages",
    "commands.language": "",
}
