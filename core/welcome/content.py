"""The content the welcome and /consent needs: each message key it uses with its placeholders, and
its flows. `unblend content check` holds every locale to it (issue 14)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "welcome.again": "",
    "consent.saved_yes": "",
    "consent.saved_no": "",
    "consent.status_yes": "when",
    "consent.status_no": "",
    "consent.keep": "",
    "consent.dont_keep": "",
    "commands.consent": "",
    "welcome.reminder": "",
    "consent.ask_delete": "checkins exercises",
    "consent.delete_kept": "",
    "consent.keep_kept": "",
    "consent.deleted_kept": "checkins exercises",
    "consent.kept_kept": "",
}

FLOWS = ("welcome",)
