"""What a group's safety settings keep, as a plain frozen record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GroupSafetySettings:
    """What a group's moderators chose; a group without a row has the defaults."""

    group_id: int
    platform: str = ""
    space_id: str = ""
    terms: tuple[str, ...] = ()  # as the moderators typed them (encrypted at rest)
    exclusions: tuple[str, ...] = ()
    screening: bool = False
    retention_days: int | None = None  # None: the bot's default
