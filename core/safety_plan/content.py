"""The content /safetyplan needs: each message key it uses with its placeholders, and its flows.
`unblend content check` holds every locale to it (issue 14)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "safetyplan.section_warning": "",
    "safetyplan.section_coping": "",
    "safetyplan.section_distract": "",
    "safetyplan.section_people": "",
    "safetyplan.section_pros": "",
    "safetyplan.section_safer": "",
    "safetyplan.not_written": "",
    "safetyplan.invite": "",
    "safetyplan.heading": "",
    "safetyplan.menu": "",
    "safetyplan.write_all": "",
    "safetyplan.write_one": "",
    "safetyplan.edit": "",
    "safetyplan.walk": "",
    "safetyplan.clear": "",
    "safetyplan.see_plan": "",
    "safetyplan.pick_edit": "",
    "safetyplan.pick_clear": "",
    "safetyplan.nothing_to_clear": "",
    "safetyplan.walk_intro": "",
    "safetyplan.current": "text",
    "safetyplan.saved": "section",
    "safetyplan.saved_step": "section",
    "safetyplan.unchanged": "section",
    "safetyplan.walk_done": "",
    "safetyplan.confirm_clear": "section",
    "safetyplan.clear_yes": "",
    "safetyplan.clear_no": "",
    "safetyplan.cleared": "section",
    "safetyplan.kept": "",
    "safetyplan.unknown": "",
}

FLOWS = ("safetyplan",)
