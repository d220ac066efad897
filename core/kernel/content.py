"""The texts the kernel itself uses (the turn and the flow engine: navigation, flows, input).
Content is always held to these; each feature declares its own (issue 14)."""

from __future__ import annotations

KERNEL_MESSAGES: dict[str, str] = {
    "nav.stop": "",
    "nav.back": "",
    "nav.skip": "",
    "nav.continue": "",
    "flow.stopped": "",
    "flow.stopped_nothing": "",
    "flow.stale": "",
    "flow.at_start": "",
    "flow.expired": "",
    "flow.replaced": "title",
    "flow.nothing_active": "",
    "flow.no_session_button": "",
    "input.empty": "",
    "input.too_long": "limit got",
    "input.not_in_scale": "min max",
    "input.not_an_option": "",
    "input.unknown_command": "command",
    "input.idle_text": "",
    "input.tap_continue": "label",
}
