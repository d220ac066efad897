"""Names in messages the bot keeps for others (issue 12: erase means erase).

A message that names a member (a shared line, a reach-out request, "<name> will reach out",
a moderator alert) is stored with a slot for the name, never the name: `slot(member_id)`. The
name itself is kept once, in the member's own data (`Repos.names`), and filled in when the
message is sent (`render_payload`, called by the outbox) or exported. After the member's
/forget the slot is filled with the message's neutral stand-in (a content key chosen where the
message was made, such as "A member"): nothing of the name is left in anyone else's messages.

A slot is NUL-delimited. Nothing a member writes can hold one (control characters are removed
from every input and from every name), and a payload only fills the slots of the members it
lists in "names": anything else that looks like a slot is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from core.kernel.shown import one_line

NAME_LIMIT = 64
SLOT = re.compile("\x00name:([0-9]{1,19})\x00")
# Where a stored payload keeps who its slots name, and what stands in for a name not known.
NAMES_KEY = "names"
UNNAMED_KEY = "unnamed"
# Payload fields shown to people, where a slot may be.
NAMED_FIELDS = ("text", "link_label", "contact_label")


class Names(Protocol):
    async def put(self, member_id: int, name: str, now: datetime) -> None: ...

    async def get(self, member_id: int) -> str | None: ...


def slot(member_id: int) -> str:
    return f"\x00name:{member_id}\x00"


async def name_slot(names: Names, member_id: int, display_name: str, now: datetime) -> str:
    """Keeps the member's name as others may see it (one line, or "" for none) and returns the
    slot that stands for it in a stored message."""
    await names.put(member_id, one_line(display_name, NAME_LIMIT), now)
    return slot(member_id)


def naming(data: dict[str, Any], member_ids: Iterable[int], unnamed: str) -> dict[str, Any]:
    """`data` (an outbox payload) marked as naming these members, with `unnamed` standing in
    for a name that is not (or no longer) kept."""
    data[NAMES_KEY] = sorted(set(member_ids))
    data[UNNAMED_KEY] = unnamed
    return data


def fill(text: str, names: Mapping[int, str | None], unnamed: str) -> str:
    """`text` with each slot replaced by the member's name; the stand-in where there is none."""
    if "\x00" not in text:
        return text
    return SLOT.sub(lambda m: names.get(int(m[1])) or unnamed, text).replace("\x00", "")


async def lookup(names: Names, data: Mapping[str, Any]) -> dict[int, str | None]:
    """The names a payload may show: only those of the members it lists."""
    listed = data.get(NAMES_KEY, [])
    ids = [i for i in listed if isinstance(i, int)] if isinstance(listed, list) else []
    return {member_id: await names.get(member_id) for member_id in ids}


def naming_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """Who a payload names, for an export entry made from it (`render_entries` fills it)."""
    return {k: data[k] for k in (NAMES_KEY, UNNAMED_KEY) if k in data}


async def render_entries(section: object, names: Names) -> object:
    """An export section with every entry made from a naming payload rendered."""
    if not isinstance(section, list):
        return section
    return [
        await render_payload(e, names) if isinstance(e, dict) and NAMES_KEY in e else e
        for e in section
    ]


async def render_payload(data: dict[str, Any], names: Names) -> dict[str, Any]:
    """A stored payload as it is sent: names filled in, the naming marks gone."""
    if NAMES_KEY not in data and not any("\x00" in str(data.get(f, "")) for f in NAMED_FIELDS):
        return data
    found = await lookup(names, data)
    unnamed = str(data.get(UNNAMED_KEY, ""))
    rendered = {k: v for k, v in data.items() if k not in (NAMES_KEY, UNNAMED_KEY)}
    for field in NAMED_FIELDS:
        if isinstance(rendered.get(field), str):
            rendered[field] = fill(rendered[field], found, unnamed)
    return rendered
