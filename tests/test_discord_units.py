"""Small Discord pieces: splitting, component layout, moderators, suggestions, form data."""

from __future__ import annotations

import discord
import pytest

from bots.discord_perms import is_moderator
from bots.discord_render import (
    TEXT_MODAL,
    ChoiceButton,
    ChoiceSelect,
    Labels,
    OpenButton,
    WriteButton,
    build_view,
    modal_text,
    split_text,
)
from core.app import Unblend
from core.kernel.model import Choice
from core.parts.suggest import part_names, timezones

LABELS = Labels("Write it", "Choose one", "Open private chat")


def test_split_keeps_paragraphs_whole_and_every_piece_within_2000() -> None:
    text = "\n\n".join(f"Part {i}. " + "x" * 900 for i in range(5))
    pieces = split_text(text)
    assert len(pieces) == 3 and all(p.startswith("Part ") and p.endswith("x") for p in pieces)
    assert sum(p.count("Part ") for p in pieces) == 5 and all(len(p) <= 2000 for p in pieces)
    assert all(len(p) <= 2000 for p in split_text("y" * 4500))
    assert split_text("short") == ["short"] and split_text("  \n ") == []


async def test_a_scale_is_buttons_with_the_nav_row_last() -> None:
    choices = tuple(Choice(f"s:urge:{n}", str(n)) for n in range(11))
    choices += (Choice("nav:skip", "Skip"), Choice("nav:stop", "Stop"))
    view = build_view(choices, LABELS, write_limit=500)
    assert view is not None and view.is_finished(), "stopped: discord.py keeps nothing"
    rows = view.to_components()
    assert [len(r["components"]) for r in rows] == [5, 5, 1, 3]
    assert [c["custom_id"] for c in rows[-1]["components"]] == [
        "~write:500",
        "nav:skip",
        "nav:stop",
    ]
    assert all(isinstance(i, (ChoiceButton, WriteButton)) for i in view.children)


async def test_many_choices_become_select_menus() -> None:
    parts = tuple(Choice(f"s:part:p{n}", f"Part {n}") for n in range(30))
    view = build_view((*parts, Choice("nav:stop", "Stop")), LABELS)
    assert view is not None
    selects = [i for i in view.children if isinstance(i, ChoiceSelect)]
    assert [len(s.item.options) for s in selects] == [25, 5]
    assert selects[0].item.options[0].value == "s:part:p0"
    assert build_view((), LABELS) is None
    only_link = build_view((), LABELS, open_command="checkin")
    assert only_link is not None and isinstance(only_link.children[0], OpenButton)


async def test_a_custom_id_over_100_characters_is_a_bug_not_hidden() -> None:
    with pytest.raises(AssertionError):
        build_view((Choice("s:" + "x" * 100, "Too long"),), LABELS)


def test_moderator_is_manage_server_administrator_or_the_configured_role() -> None:
    nobody = discord.Permissions.none()
    assert is_moderator(discord.Permissions(manage_guild=True), [])
    assert is_moderator(discord.Permissions(administrator=True), [])
    assert not is_moderator(nobody, [5, 6])
    assert is_moderator(nobody, [5, 6], role=6)
    assert not is_moderator(nobody, [5], role=0)


def test_timezones_by_prefix_at_most_25() -> None:
    assert "Europe/London" in timezones("lon")
    assert timezones("europe/ber")[0] == "Europe/Berlin"
    assert timezones("new y")[0] == "America/New_York"
    assert len(timezones("")) == 25 and len(timezones("a")) <= 25
    assert timezones("<b>x</b>") == [] and timezones("zz-no-such") == []


async def test_part_suggestions_are_only_the_members_own(app: Unblend) -> None:
    now = app.clock.now()
    mine = await app.repos.members.get_or_create("discord", "1", now)
    other = await app.repos.members.get_or_create("discord", "2", now)
    for name in ("Critic", "Little one", "Scout"):
        await app.repos.parts.add(mine.id, name, "unsure", now)
    await app.repos.parts.add(other.id, "Secret", "unsure", now)
    assert await part_names(app, "discord", "1", "") == ["Critic", "Little one", "Scout"]
    assert await part_names(app, "discord", "1", "c") == ["Critic", "Scout"]
    assert await part_names(app, "discord", "1", "secret") == []


def test_modal_text_reads_our_form_only() -> None:
    row = {"type": 1, "components": [{"type": 4, "custom_id": "words", "value": "Hi 👋"}]}
    assert modal_text({"custom_id": TEXT_MODAL, "components": [row]}) == "Hi 👋"
    label = {"type": 18, "component": {"type": 4, "custom_id": "words", "value": "x"}}
    assert modal_text({"custom_id": TEXT_MODAL, "components": [label]}) == "x"
    assert modal_text({"custom_id": "other", "components": [row]}) is None
    assert modal_text(None) is None
