"""A feature plugs commands, buttons, flow finishers and option sources into the core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.kernel.flows.engine import FlowState
from core.kernel.flows.schema import Option

if TYPE_CHECKING:
    from core.kernel.turn import Turn

CommandHandler = Callable[["Turn", tuple[str, ...]], Awaitable[None]]
ChoiceHandler = Callable[["Turn", str], Awaitable[None]]
FinishHandler = Callable[["Turn", FlowState], Awaitable[None]]
OptionSource = Callable[["Turn"], Awaitable[tuple[Option, ...]]]


@dataclass(frozen=True)
class Invalid:
    """Why a text answer does not fit: a message key from content and its placeholders."""

    key: str
    params: Mapping[str, str | int] = field(default_factory=dict)


# A text step's `validate = "<name>"` -> check(turn, stripped text); None when it fits.
Validator = Callable[["Turn", str], Awaitable[Invalid | None]]


@dataclass(frozen=True)
class Feature:
    name: str
    # /command -> handler(turn, args). Runs only after the member's welcome.
    commands: Mapping[str, CommandHandler] = field(default_factory=dict)
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


def _join(name: str, target: dict[str, Any], new: Mapping[str, Any]) -> None:
    clash = set(target) & set(new)
    if clash:
        raise ValueError(f"feature {name} redefines {sorted(clash)}")
    target.update(new)


def build_registry(features: tuple[Feature, ...]) -> Registry:
    """Joins features; two features claiming one name is a programming error, caught at start."""
    commands: dict[str, CommandHandler] = {}
    choices: dict[str, ChoiceHandler] = {}
    finishers: dict[str, FinishHandler] = {}
    preflights: dict[str, FinishHandler] = {}
    dynamic: dict[str, OptionSource] = {}
    validators: dict[str, Validator] = {}
    buttons: set[str] = set()
    traceless: set[str] = set()
    for f in features:
        _join(f.name, commands, f.commands)
        _join(f.name, choices, f.choices)
        _join(f.name, finishers, f.finishers)
        _join(f.name, preflights, f.preflights)
        _join(f.name, dynamic, f.option_sources)
        _join(f.name, validators, f.validators)
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
    )
