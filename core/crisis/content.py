"""The content the crisis path and telling a moderator needs: each message key it uses with its
placeholders, and its flows. `unblend content check` holds every locale to it (issue 14)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "crisis.intro": "",
    "crisis.resources_heading": "country",
    "crisis.emergency": "number",
    "crisis.ask_safe": "",
    "crisis.safe_yes": "",
    "crisis.safe_no": "",
    "crisis.misunderstood": "",
    "crisis.reply_safe": "",
    "crisis.reply_not_safe": "",
    "crisis.reply_misunderstood": "",
    "crisis.resume": "",
    # crisis detection (issue 15): someone else in danger now; the learned layer's gentle
    # private check for a member in a screened group
    "crisis.other_intro": "number",
    "crisis.other_steps": "",
    "support.offer": "",
    "support.ask": "",
    "support.plain": "",
    "support.with_words": "",
    "support.no": "",
    "support.not_told": "",
    "support.told": "",
    "support.no_moderator": "",
    "support.words_gone": "",
    "support.moderator_note": "handle",
    "support.moderator_words": "words",
    # safety plan (/safetyplan, and /crisis shows it first)
    "crisis.own_plan": "",
    # issue 13: what a member meets (content/en/messages/member.toml, history.toml)
    "crisis.calm_plan": "",
}

# /country
COUNTRY_MESSAGES: dict[str, str] = {
    "country.ask": "country",
    "country.elsewhere": "",
    "country.saved": "country",
    "country.unknown": "",
    "commands.country": "",
    "country.typed_unknown": "",
}
