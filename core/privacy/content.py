"""The content /privacy, /export and /forget needs: each message key it uses with its placeholders,
and its flows. `unblend content check` holds every locale to it (issue 14)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # privacy, export, forget, country, crisis follow-up (issue 7)
    "privacy.summary": "days contact",
    "privacy.contact_default": "",
    "commands.privacy": "",
    "privacy.export_ready": "",
    "privacy.export_csv": "count",
    "privacy.export_nothing": "",
    "commands.export": "",
    "privacy.forget_confirm": "",
    "privacy.forget_yes": "",
    "privacy.forget_no": "",
    "privacy.forget_kept": "",
    "privacy.forgotten": "",
    "privacy.forget_nothing": "",
    # /forget and group data (issue 7, brief H4)
    "privacy.forget_groups_deleted": "count",
    "privacy.forget_groups_too_old": "count hours",
    "privacy.forget_groups_failed": "count",
    "commands.forget": "",
}
