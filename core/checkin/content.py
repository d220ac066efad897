"""The content /checkin needs: each message key it uses with its placeholders, and its flows.
`unblend content check` holds every locale to it (issue 14)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "checkin.saved": "",
    "checkin.not_saved": "",
    "checkin.offer_ground": "",
    "checkin.offer_history": "",
    "checkin.closing": "",
    "commands.checkin": "",
    "checkin.nothing_answered": "",
}

FLOWS = ("checkin",)
