"""Core replies as Discord messages: text split to fit, choices as buttons or select menus.

Every component is a `DynamicItem` whose `custom_id` is the core's `Choice.id` (or one of the
adapter's own `~` ids). The item classes are registered once at start-up, so a button keeps
working after a restart: nothing about it is kept in memory, the core holds the flow session.
Views are stopped before they are sent, so discord.py never stores (or times out) them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Self

import discord
from discord import ui

from bots.text_split import split_text as split
from core.api import Choice

if TYPE_CHECKING:
    from discord import Interaction

TEXT_LIMIT = 2000
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
OPTION_LIMIT = 100
SELECT_OPTIONS = 25
ROW_BUTTONS = 5
ROWS = 5
NAV_PREFIX = "nav:"
# The adapter's own component ids start with "~", which no core choice id does.
OPEN_PREFIX = "~open:"
WRITE_PREFIX = "~write:"
PICK_PREFIX = "~pick:"
TEXT_MODAL = "~text"
TEXT_INPUT = "words"
MODAL_TITLE_LIMIT = 45
TEXT_INPUT_LIMIT = 4000


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces within Discord's limit, in characters (bots/text_split.py)."""
    return split(text, limit)


def _clip(label: str, limit: int) -> str:
    label = label.strip() or "…"
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _checked(custom_id: str) -> str:
    # The core keeps ids short; one Discord would refuse is a bug, not something to hide.
    assert 0 < len(custom_id) <= CUSTOM_ID_LIMIT, f"custom_id of {len(custom_id)} characters"
    return custom_id


class ComponentHandler(Protocol):
    async def on_choice(self, interaction: Interaction, choice_id: str) -> None: ...

    async def on_open(self, interaction: Interaction, command: str) -> None: ...

    async def on_write(self, interaction: Interaction, limit: int) -> None: ...

    async def acknowledge(self, interaction: Interaction) -> None: ...


def handler_of(interaction: Interaction) -> ComponentHandler:
    handler: ComponentHandler = interaction.client.unblend_handler  # type: ignore[attr-defined]
    return handler


class ChoiceButton(ui.DynamicItem[ui.Button[Any]], template=r"(?P<id>[^~].*)"):
    """A button whose custom_id is a core choice id: `s:mood:4`, `nav:stop`, `cmd:ground`."""

    def __init__(self, choice_id: str, label: str = "…", row: int | None = None) -> None:
        style = (
            discord.ButtonStyle.secondary
            if choice_id.startswith(NAV_PREFIX)
            else discord.ButtonStyle.primary
        )
        button: ui.Button[Any] = ui.Button(
            label=_clip(label, BUTTON_LABEL_LIMIT), custom_id=_checked(choice_id), style=style
        )
        if row is not None:
            button.row = row
        super().__init__(button)
        self.choice_id = choice_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: ui.Item[Any], match: Any, /
    ) -> Self:
        return cls(str(match["id"]), str(getattr(item, "label", "") or "…"))

    async def callback(self, interaction: Interaction) -> None:
        await handler_of(interaction).on_choice(interaction, self.choice_id)


class ChoiceSelect(ui.DynamicItem[ui.Select[Any]], template=r"~pick:(?P<n>[0-9])"):
    """A select menu for long lists (e.g. many parts); each option's value is a choice id."""

    def __init__(
        self, n: int, choices: Sequence[Choice] = (), placeholder: str = "", row: int | None = None
    ) -> None:
        options = [
            discord.SelectOption(label=_clip(c.label, OPTION_LIMIT), value=_checked(c.id))
            for c in choices
        ] or [discord.SelectOption(label="…", value="~none")]
        select: ui.Select[Any] = ui.Select(
            custom_id=f"{PICK_PREFIX}{n}",
            options=options,
            placeholder=_clip(placeholder, 150) if placeholder else None,
            min_values=1,
            max_values=1,
        )
        if row is not None:
            select.row = row
        super().__init__(select)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: ui.Item[Any], match: Any, /
    ) -> Self:
        return cls(int(match["n"]))

    async def callback(self, interaction: Interaction) -> None:
        values = self.item.values
        if values:
            await handler_of(interaction).on_choice(interaction, values[0])
        else:
            await handler_of(interaction).acknowledge(interaction)


class OpenButton(
    ui.DynamicItem[ui.Button[Any]], template=r"~open:(?P<command>[A-Za-z0-9_-]{1,64})"
):
    """`Reply.private_link`: opens that command privately (ephemerally) for whoever taps."""

    def __init__(self, command: str, label: str = "…", row: int | None = None) -> None:
        button: ui.Button[Any] = ui.Button(
            label=_clip(label, BUTTON_LABEL_LIMIT),
            custom_id=_checked(OPEN_PREFIX + command),
            style=discord.ButtonStyle.primary,
        )
        if row is not None:
            button.row = row
        super().__init__(button)
        self.command = command

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: ui.Item[Any], match: Any, /
    ) -> Self:
        return cls(str(match["command"]), str(getattr(item, "label", "") or "…"))

    async def callback(self, interaction: Interaction) -> None:
        await handler_of(interaction).on_open(interaction, self.command)


class WriteButton(ui.DynamicItem[ui.Button[Any]], template=r"~write:(?P<limit>[0-9]{1,4})"):
    """Shown when the core waits for free text: opens a modal of the step's length."""

    def __init__(self, limit: int, label: str = "…", row: int | None = None) -> None:
        button: ui.Button[Any] = ui.Button(
            label=_clip(label, BUTTON_LABEL_LIMIT),
            custom_id=_checked(f"{WRITE_PREFIX}{limit}"),
            style=discord.ButtonStyle.success,
        )
        if row is not None:
            button.row = row
        super().__init__(button)
        self.limit = limit

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: ui.Item[Any], match: Any, /
    ) -> Self:
        return cls(int(match["limit"]), str(getattr(item, "label", "") or "…"))

    async def callback(self, interaction: Interaction) -> None:
        await handler_of(interaction).on_write(interaction, self.limit)


DYNAMIC_ITEMS = (ChoiceButton, ChoiceSelect, OpenButton, WriteButton)


def routed(interaction: Interaction) -> bool:
    """Whether a tap reaches one of the registered items' callbacks. discord.py drops it
    silently (unanswered) unless the message it came from shows that very component."""
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    kind = data.get("component_type")
    message = interaction.message
    if message is None or not any(
        i.__discord_ui_compiled_template__.fullmatch(custom_id) for i in DYNAMIC_ITEMS
    ):
        return False
    stack: list[Any] = list(message.components)
    while stack:
        component = stack.pop()
        if getattr(component, "custom_id", None) == custom_id:
            return bool(component.type.value == kind)
        stack += list(getattr(component, "children", ()))
    return False


@dataclass(frozen=True)
class Labels:
    """Words the adapter adds itself, from content."""

    write: str
    more: str
    open: str


def build_views(
    choices: Sequence[Choice],
    labels: Labels,
    write_limit: int = 0,
    open_command: str = "",
) -> list[ui.View]:
    """The components of one reply, in as many messages' worth as they need (usually one).

    Up to 20 choices are buttons, more are select menus of 25; then the form button and the
    nav buttons, then the "open privately" button. Discord allows 5 rows a message (a select
    fills its row): what doesn't fit goes on in a further view, sent as a message of its own,
    so no choice is ever lost and nothing here can raise. A choice id given twice is shown
    once (Discord refuses a message with a custom_id twice).
    """
    unique: dict[str, Choice] = {}
    for choice in choices:
        unique.setdefault(choice.id, choice)
    main = [c for c in unique.values() if not c.id.startswith(NAV_PREFIX)]
    nav = [c for c in unique.values() if c.id.startswith(NAV_PREFIX)]
    rows: list[list[Callable[[int], ui.Item[Any]]]] = []
    if len(main) <= (ROWS - 1) * ROW_BUTTONS:
        rows += _button_rows([_button(c) for c in main])
    else:
        for i in range(0, len(main), SELECT_OPTIONS):
            rows.append([_select(i // SELECT_OPTIONS % ROWS, main[i : i + SELECT_OPTIONS], labels)])
    last: list[Callable[[int], ui.Item[Any]]] = []
    if write_limit:
        limit = min(write_limit, TEXT_INPUT_LIMIT)
        last.append(lambda row: WriteButton(limit, labels.write, row))
    last += [_button(c) for c in nav]
    if open_command:
        last.append(lambda row: OpenButton(open_command, labels.open, row))
    rows += _button_rows(last)
    views = []
    for first in range(0, len(rows), ROWS):
        view = ui.View(timeout=None)
        for row, makers in enumerate(rows[first : first + ROWS]):
            for make in makers:
                view.add_item(make(row))
        # Stopped: discord.py sends it but keeps nothing; the registered dynamic items route taps.
        view.stop()
        views.append(view)
    return views


def build_view(
    choices: Sequence[Choice],
    labels: Labels,
    write_limit: int = 0,
    open_command: str = "",
) -> ui.View | None:
    """One message's components (a group's post carries a button or two); None if empty."""
    views = build_views(choices, labels, write_limit, open_command)
    return views[0] if views else None


def _button(choice: Choice) -> Callable[[int], ui.Item[Any]]:
    return lambda row: ChoiceButton(choice.id, choice.label, row)


def _select(n: int, chunk: Sequence[Choice], labels: Labels) -> Callable[[int], ui.Item[Any]]:
    return lambda row: ChoiceSelect(n, chunk, labels.more, row)


def _button_rows(
    buttons: Sequence[Callable[[int], ui.Item[Any]]],
) -> list[list[Callable[[int], ui.Item[Any]]]]:
    return [list(buttons[i : i + ROW_BUTTONS]) for i in range(0, len(buttons), ROW_BUTTONS)]


class TextModal(ui.Modal):
    """The pop-up form for a text step. Submissions are read in the adapter's on_interaction."""

    def __init__(self, title: str, label: str, limit: int) -> None:
        super().__init__(title=_clip(title, MODAL_TITLE_LIMIT), custom_id=TEXT_MODAL, timeout=None)
        self.add_item(
            ui.TextInput(
                label=_clip(label, MODAL_TITLE_LIMIT),
                custom_id=TEXT_INPUT,
                style=discord.TextStyle.paragraph,
                required=True,
                min_length=1,
                max_length=max(1, min(limit, TEXT_INPUT_LIMIT)),
            )
        )
        self.stop()


def modal_text(data: Any) -> str | None:
    """The words from a submitted `TextModal`, or None when it is not one of ours."""
    if not isinstance(data, dict) or data.get("custom_id") != TEXT_MODAL:
        return None
    stack = list(data.get("components") or [])
    while stack:
        comp = stack.pop(0)
        if not isinstance(comp, dict):
            continue
        if comp.get("custom_id") == TEXT_INPUT:
            return str(comp.get("value") or "")
        stack += list(comp.get("components") or [])
        if isinstance(comp.get("component"), dict):
            stack.append(comp["component"])
    return ""
