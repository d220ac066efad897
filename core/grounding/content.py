"""The content /ground needs: each message key it uses with its placeholders, and its flows.
`unblend content check` holds every locale to it (issue 14)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "commands.ground": "",
    # grounding (/ground)
    "ground.menu": "items",
    "ground.item": "label id about",
    "ground.unknown": "name",
    "ground.unknown_plain": "",
    "ground.cold_off": "",
    "ground.pick_another": "",
    "ground.change_down": "before after",
    "ground.change_same": "before",
    "ground.change_up": "before after",
    "ground.change_unknown": "",
    "ground.still_high": "",
    "ground.kept": "",
    "ground.next": "",
    "ground.another": "",
    "ground.checkin": "",
    "ground.carried": "level",
}

FLOWS = (
    "ground_senses",
    "ground_paced",
    "ground_box",
    "ground_sigh",
    "ground_sober",
    "ground_surf",
    "ground_orient",
    "ground_cold",
)
