"""A feature declares itself: its commands and where they answer, its buttons, flow finishers and
option sources, its group settings, the content it needs, and the stores that hold member data.
The app, the platforms' menus and slash commands, the content check and /export and /forget all
read these declarations (issue 14); nothing else lists a feature's commands or keys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.kernel.catalog import ContentContract
from core.kernel.ports import OwnStore
from core.kernel.turn import (
    ChoiceHandler,
    CommandHandler,
    FinishHandler,
    Host,
    OptionSource,
    Turn,
    Validator,
)


class Where(StrEnum):
    """Where a command typed in a group is answered (typed privately, it is answered there)."""

    # In the private chat: in a group, one line and a button into it.
    PRIVATE = "private"
    # In the group, for the group to see (/help, /volunteer).
    GROUP = "group"
    # In the group, for the group to see; only its moderators may change anything (/schedule).
    MODERATOR = "moderator"
    # In the group, to the member alone, with what the group may see if they cannot be reached
    # privately (/crisis, /sos).
    MEMBER = "member"


@dataclass(frozen=True)
class Command:
    """A command's declaration. A bare handler in `Feature.commands` is one with the defaults."""

    # None: the app answers it itself (/help, /crisis, /start and the flow words).
    handler: CommandHandler | None = None
    where: Where = Where.PRIVATE
    # False: nothing may follow its name (a platform offers no text to type after it).
    takes_args: bool = True
    # False: not in the platforms' menus (aliases such as /sos, /start, the flow words).
    listed: bool = True
    # Only a button or link opens it (a group check-in's private side): no menu entry and no
    # slash command.
    button_only: bool = False
    # False: left out of a group's menu, as it only makes sense one to one (/consent).
    group_menu: bool = True
    # Where a platform can answer one member in place (Discord's ephemeral replies): answered
    # there as if typed privately, wherever it is typed (/remind).
    own_anywhere: bool = False
    # Where a platform can answer one member in place: about the group, but shown only to whoever
    # typed it (/volunteer).
    to_them: bool = False


# `/group settings <name> <value>` -> change(turn, group, name, value). The group is
# core.groups.records.Group: the kernel does not know what a group holds.
SettingChange = Callable[[Turn, Any, str, str], Awaitable[None]]

# A feature's part of the daily clean-up (core/privacy/retention.py runs each one):
# (the app, now) -> rows removed. What it keeps past its time goes here, as its erasure goes
# in `member_data`.
Purge = Callable[[Host, datetime], Awaitable[int]]


@dataclass(frozen=True)
class GroupSetting:
    """One of a group's settings: the one declaration the settings command, its storage, its
    help and the platforms' suggestions (Discord's autocomplete) read."""

    name: str
    # Shown when the value is missing or not one it takes: a whole example command.
    example: str
    # None: the /group command keeps it by name (core/groups/store.py `group_settings`), after
    # checking it against `values`, and records the change in the audit log; the feature reads
    # it with core.groups.declared.setting_value. A feature with checks of its own gives its
    # own (and keeps the value by name too: GroupRepo.put_setting).
    change: SettingChange | None = None
    # What it takes and a platform suggests: fixed words, or a list known by name ("timezone",
    # "country", "language"; any other name: one line of text).
    values: tuple[str, ...] | str = ("off",)
    # Its value until a moderator sets one.
    default: str = ""


@dataclass(frozen=True)
class Feature:
    name: str
    # Where it comes among the features (lower first; a tie goes by name): the order menus and
    # slash commands list its commands in, and its part of the clean-up runs in. core/features.py
    # finds every feature by itself (each package's `feature.py`) and sorts them by this.
    order: int = 1000
    # /command -> handler(turn, args), or its full declaration. Runs only after the welcome.
    commands: Mapping[str, CommandHandler | Command] = field(default_factory=dict)
    # Commands a `cmd:<name>` button may run.
    buttons: frozenset[str] = frozenset()
    # `<prefix>:<rest>` button -> handler(turn, rest).
    choices: Mapping[str, ChoiceHandler] = field(default_factory=dict)
    # A flow's `finish = "<name>"` -> handler(turn, final state).
    finishers: Mapping[str, FinishHandler] = field(default_factory=dict)
    # A flow's `finish = "<name>"` -> what to ask before its writes begin (the platform, say):
    # the finisher's writes hold the database's write lock, so no network call belongs there.
    preflights: Mapping[str, FinishHandler] = field(default_factory=dict)
    # A step's `options_from = "<name>"` -> the member's own options.
    option_sources: Mapping[str, OptionSource] = field(default_factory=dict)
    # A text step's `validate = "<name>"` -> its check.
    validators: Mapping[str, Validator] = field(default_factory=dict)
    # Commands and `<prefix>:` buttons that work before the welcome and never create a member
    # row by themselves (privacy, export, erasure): asking what is stored stores nothing.
    traceless: frozenset[str] = frozenset()
    # Settings of a group this feature owns (`/group settings <name>`).
    group_settings: tuple[GroupSetting, ...] = ()
    # The content it needs: message key -> its placeholders ("name count"), and flow ids.
    messages: Mapping[str, str] = field(default_factory=dict)
    flows: tuple[str, ...] = ()
    # Messages every flow of a family needs: flow id prefix -> keys with `{id}` for the rest of
    # the flow's id (each grounding exercise's label and line in the menu).
    flow_messages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The stores (fields of core.repos.Repos) holding member data it keeps: /export copies
    # them and /forget erases them (each implements core.kernel.ports.MemberData).
    member_data: tuple[str, ...] = ()
    # What it removes in the daily clean-up once its time has passed.
    purge: Purge | None = None
    # The stores it keeps that core/repos.py does not name: built with the others, on the
    # database and in memory, and read with `store.of(turn.repos)`. Name one in `member_data`
    # when it holds member data.
    stores: tuple[OwnStore[Any], ...] = ()


@dataclass(frozen=True)
class Registry:
    commands: Mapping[str, CommandHandler]
    buttons: frozenset[str]
    choices: Mapping[str, ChoiceHandler]
    finishers: Mapping[str, FinishHandler]
    dynamic: Mapping[str, OptionSource]
    preflights: Mapping[str, FinishHandler] = field(default_factory=dict)
    validators: Mapping[str, Validator] = field(default_factory=dict)
    traceless: frozenset[str] = frozenset()
    # Every command's declaration, the app's own included.
    declared: Mapping[str, Command] = field(default_factory=dict)
    group_settings: Mapping[str, GroupSetting] = field(default_factory=dict)
    messages: Mapping[str, frozenset[str]] = field(default_factory=dict)
    flows: tuple[str, ...] = ()
    flow_messages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Store name -> the feature that declared it.
    member_data: Mapping[str, str] = field(default_factory=dict)
    # Every feature's part of the daily clean-up, in the features' order.
    purges: tuple[Purge, ...] = ()

    def content_contract(self) -> ContentContract:
        """What these features need of content (`unblend content check` holds it)."""
        return ContentContract(self.messages, self.flows, self.flow_messages)

    def public_in_group(self, command: str) -> bool:
        """Whether a command typed in a group gets an answer the group sees. For an adapter
        that must choose how visible an answer is before it exists (Discord, deferring)."""
        return self.where(command) in (Where.GROUP, Where.MODERATOR)

    def where(self, command: str) -> Where:
        """Where a command typed in a group is answered; an unknown one as a private one."""
        declared = self.declared.get(command)
        return declared.where if declared is not None else Where.PRIVATE


def _join(name: str, target: dict[str, Any], new: Mapping[str, Any]) -> None:
    clash = set(target) & set(new)
    if clash:
        raise ValueError(f"feature {name} redefines {sorted(clash)}")
    target.update(new)


def declaration(command: CommandHandler | Command) -> Command:
    return command if isinstance(command, Command) else Command(command)


def build_registry(features: tuple[Feature, ...]) -> Registry:
    """Joins features; two features claiming one name is a programming error, caught at start."""
    commands: dict[str, CommandHandler] = {}
    declared: dict[str, Command] = {}
    choices: dict[str, ChoiceHandler] = {}
    finishers: dict[str, FinishHandler] = {}
    preflights: dict[str, FinishHandler] = {}
    dynamic: dict[str, OptionSource] = {}
    validators: dict[str, Validator] = {}
    settings: dict[str, GroupSetting] = {}
    messages: dict[str, frozenset[str]] = {}
    flow_messages: dict[str, tuple[str, ...]] = {}
    member_data: dict[str, str] = {}
    flows: list[str] = []
    purges: list[Purge] = []
    buttons: set[str] = set()
    traceless: set[str] = set()
    for f in features:
        own = {name: declaration(c) for name, c in f.commands.items()}
        _join(f.name, declared, own)
        _join(f.name, commands, {n: c.handler for n, c in own.items() if c.handler is not None})
        _join(f.name, choices, f.choices)
        _join(f.name, finishers, f.finishers)
        _join(f.name, preflights, f.preflights)
        _join(f.name, dynamic, f.option_sources)
        _join(f.name, validators, f.validators)
        _join(f.name, settings, {s.name: s for s in f.group_settings})
        _join(f.name, messages, {k: frozenset(v.split()) for k, v in f.messages.items()})
        _join(f.name, flow_messages, f.flow_messages)
        _join(f.name, member_data, dict.fromkeys(f.member_data, f.name))
        _join(f.name, dict.fromkeys(flows), dict.fromkeys(f.flows))
        flows += f.flows
        purges += [f.purge] if f.purge is not None else []
        buttons |= f.buttons
        traceless |= f.traceless
    return Registry(
        commands,
        frozenset(buttons),
        choices,
        finishers,
        dynamic,
        preflights,
        validators,
        frozenset(traceless),
        declared=declared,
        group_settings=settings,
        messages=messages,
        flows=tuple(flows),
        flow_messages=flow_messages,
        member_data=member_data,
        purges=tuple(purges),
    )
