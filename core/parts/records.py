"""A part in a member's own map."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    id: int
    member_id: int
    name: str
    role: str = "unsure"
    # Optional notes, each the member's own words: anything else they want to keep,
    # where it shows up in the body, what it says, what it protects.
    notes: str = ""
    body: str = ""
    says: str = ""
    protects: str = ""
