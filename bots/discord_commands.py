"""Slash commands for every core command: descriptions from content, typed options, autocomplete.

Each option is only a way to write the command's arguments; the core decides what they mean
(`/parts add:Sam` is the core's `/parts add Sam`). A command without a spec here gets one
optional `text` option, so a new core feature has a working slash command on day one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from core.api import (
    MAX_SUGGESTIONS,
    MENU_NAME,
    Catalog,
    Command,
    offered_exercises,
    part_names,
    timezones,
)

if TYPE_CHECKING:
    from core.api import Unblend

PLATFORM = "discord"
DESCRIPTION_LIMIT = 100
CHOICE_NAME_LIMIT = 100
TEXT_OPTION_LIMIT = 1000
PART_NAME_LIMIT = 64
# The command the member typed, with its arguments, as the core reads them.
RunCommand = Callable[[discord.Interaction, str, tuple[str, ...]], Awaitable[None]]
Callback = Callable[..., Awaitable[None]]
# /group's subcommands that are a moderator's own view: answered to them alone.
ONLY_TO_MODERATOR = frozenset({"audit", "terms"})  # /group's: a moderator's own view
AnyCommand = app_commands.Command[Any, ..., None] | app_commands.Group
FIRST = ("checkin", "ground", "history", "parts", "safetyplan", "days")


def private_everywhere(declared: Mapping[str, Command], name: str, args: tuple[str, ...]) -> bool:
    """Typed in a server, still the member's own (the core reads it as typed privately): what
    its feature declares so (/remind), and /volunteer status and quiet (quiet hours hold in
    every group)."""
    command = declared.get(name)
    if command is not None and command.own_anywhere:
        return True
    return name == "volunteer" and (not args or args[0] == "quiet")


def answered_privately(declared: Mapping[str, Command], name: str, args: tuple[str, ...]) -> bool:
    """About the server's group, but shown only to whoever typed it (ephemeral): what its
    feature declares so (/volunteer's button into the private side), and a moderator's
    /group audit and /group terms (the core's refusal to anyone else included)."""
    command = declared.get(name)
    if command is not None and command.to_them:
        return True
    return name == "group" and bool(args) and args[0] in ONLY_TO_MODERATOR


def describe(cat: Catalog, key: str) -> locale_str:
    """A description in English, carrying its content key: Discord gets it in every shipped
    language when the commands are synced (bots/discord_translator.py)."""
    text = cat.messages.get(key, "").strip() or cat.text("discord.no_description")
    shown = text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"
    return locale_str(shown, key=key)


def choice_name(cat: Catalog, key: str) -> locale_str:
    """A choice's name, like `describe`."""
    return locale_str(cat.text(key)[:CHOICE_NAME_LIMIT], key=key)


def slash_names(app: Unblend) -> list[str]:
    """Every core command a member can type, in a useful order."""
    declared = app.registry.declared
    # The features' commands in their order, then the app's own by name.
    own = sorted(n for n, c in declared.items() if c.handler is None)
    names = dict.fromkeys([*FIRST, *app.registry.commands, *own])
    return [
        n for n in names if n in declared and not declared[n].button_only and MENU_NAME.fullmatch(n)
    ]


def _plain(run: RunCommand) -> Callback:
    async def command(interaction: discord.Interaction) -> None:
        await run(interaction, _name(interaction), ())

    return command


def _text(run: RunCommand, cat: Catalog) -> Callback:
    @app_commands.describe(text=describe(cat, "discord.option.text"))
    async def command(
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, TEXT_OPTION_LIMIT] | None = None,
    ) -> None:
        await run(interaction, _name(interaction), tuple((text or "").split()))

    return command


def _ground(run: RunCommand, cat: Catalog, app: Unblend) -> Callback:
    offered = offered_exercises(cat, app.settings.cold_water)
    picks = [
        app_commands.Choice(name=choice_name(cat, f"ground.label.{e}"), value=e) for e in offered
    ]

    @app_commands.describe(exercise=describe(cat, "discord.option.exercise"))
    @app_commands.choices(exercise=picks)
    async def command(
        interaction: discord.Interaction,
        exercise: str | None = None,
    ) -> None:
        await run(interaction, "ground", (exercise,) if exercise else ())

    return command


def _parts(run: RunCommand, cat: Catalog, app: Unblend) -> Callback:
    async def suggest(
        interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        names = await part_names(app, PLATFORM, str(interaction.user.id), typed)
        return [app_commands.Choice(name=n[:CHOICE_NAME_LIMIT], value=n) for n in names]

    @app_commands.describe(
        part=describe(cat, "discord.option.part"),
        add=describe(cat, "discord.option.add_part"),
        talk=describe(cat, "discord.option.talk"),
    )
    @app_commands.autocomplete(part=suggest)
    async def command(
        interaction: discord.Interaction,
        part: app_commands.Range[str, 1, PART_NAME_LIMIT] | None = None,
        add: app_commands.Range[str, 1, PART_NAME_LIMIT] | None = None,
        talk: bool | None = None,
    ) -> None:
        if add:
            args: tuple[str, ...] = ("add", add)
        elif talk:
            args = ("talk",)
        elif part:
            args = (part,)
        else:
            args = ()
        await run(interaction, "parts", args)

    return command


def _days(run: RunCommand, cat: Catalog) -> Callback:
    @app_commands.describe(
        add=describe(cat, "discord.option.add_counter"), slip=describe(cat, "discord.option.slip")
    )
    async def command(
        interaction: discord.Interaction,
        add: bool | None = None,
        slip: app_commands.Range[str, 1, PART_NAME_LIMIT] | None = None,
    ) -> None:
        if slip:
            args: tuple[str, ...] = ("slip", slip)
        elif add:
            args = ("add",)
        else:
            args = ()
        await run(interaction, "days", args)

    return command


def _language(run: RunCommand, cat: Catalog, app: Unblend) -> Callback:
    languages = app.languages
    # Each language by its own name, whatever the member's app language (never translated).
    picks = [
        app_commands.Choice(name=languages.name(code)[:CHOICE_NAME_LIMIT], value=code)
        for code in languages.shipped
    ]

    @app_commands.describe(language=describe(cat, "discord.option.language"))
    @app_commands.choices(language=picks)
    async def command(interaction: discord.Interaction, language: str | None = None) -> None:
        await run(interaction, "language", (language,) if language else ())

    return command


def _name(interaction: discord.Interaction) -> str:
    command = interaction.command
    return command.name if command is not None else ""


def build_commands(
    app: Unblend, run: RunCommand, own: Mapping[str, AnyCommand] | None = None
) -> list[AnyCommand]:
    """A slash command for each core command; `own` gives some their own (subcommands)."""
    cat = app.library.catalog()
    own = own or {}
    built: list[AnyCommand] = []
    for name in slash_names(app):
        if name in own:
            built.append(own[name])
            continue
        if name == "ground":
            callback = _ground(run, cat, app)
        elif name == "parts":
            callback = _parts(run, cat, app)
        elif name == "days":
            callback = _days(run, cat)
        elif name == "language":
            callback = _language(run, cat, app)
        elif not app.registry.declared[name].takes_args:
            # Nothing may follow its name: arguments would only be ignored or confuse.
            callback = _plain(run)
        else:
            callback = _text(run, cat)
        built.append(
            app_commands.Command(
                name=name,
                description=describe(cat, f"commands.{name}"),
                callback=callback,  # type: ignore[arg-type]
            )
        )
    return built


async def timezone_choices(typed: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for a timezone option (ready for the group check-ins' schedule)."""
    return [app_commands.Choice(name=z, value=z) for z in timezones(typed, MAX_SUGGESTIONS)]
