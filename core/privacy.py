"""Privacy: the published policy filled from the config, and a member's export as files."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core.ports import MemberData, Repos
from core.records import Member

POLICY_FILE = "privacy_policy.md"
DEFAULT_CONTACT = "the admins of the group where you use this bot"


@dataclass(frozen=True)
class PolicyFacts:
    """What the published policy says about this installation."""

    contact: str
    retention_days: int
    retention_days_max: int
    storage: str
    key: str


def policy_text(content_dir: Path, facts: PolicyFacts, locale: str = "en") -> str:
    """The policy an admin can publish as is (PRIVACY.md), in the locale when it has one."""
    path = content_dir / locale / POLICY_FILE
    if not path.is_file():
        path = content_dir / "en" / POLICY_FILE
    template = string.Template(path.read_text(encoding="utf-8"))
    return template.substitute(
        contact=facts.contact or DEFAULT_CONTACT,
        retention_days=facts.retention_days,
        retention_days_max=facts.retention_days_max,
        storage=facts.storage,
        key=facts.key,
    )


# -- export ------------------------------------------------------------------------------------

CHECKIN_COLUMNS = ("date", "time", "mood", "urge", "part", "need", "protector", "note")


def export_json(data: Mapping[str, Any]) -> bytes:
    """Everything stored about one member, readable by people and programs alike."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def checkins_csv(checkins: list[Mapping[str, Any]]) -> bytes:
    """One row a check-in, oldest first, like a mood tracker's export (spreadsheet-ready)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CHECKIN_COLUMNS)
    for row in sorted(checkins, key=lambda r: str(r.get("at", ""))):
        at = str(row.get("at", ""))
        date, _, time = at.partition("T")
        writer.writerow(
            [
                date,
                time[:8],
                *(_cell(row.get(k)) for k in CHECKIN_COLUMNS[2:]),
            ]
        )
    # A byte order mark, so spreadsheet programs read accents and emoji as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# -- every repository, for export and erasure -------------------------------------------------


def member_data(repos: Repos) -> list[tuple[str, MemberData]]:
    """Every repository that holds member data, the member row's own repository last."""
    found = [
        (f.name, repo)
        for f in dataclasses.fields(repos)
        if isinstance(repo := getattr(repos, f.name), MemberData)
    ]
    return sorted(found, key=lambda item: item[1] is repos.members)


async def export_member(repos: Repos, member_id: int) -> dict[str, Any]:
    """Everything stored about the member, one section per kind of data."""
    data: dict[str, Any] = {}
    for name, repo in member_data(repos):
        for key, value in (await repo.export(member_id)).items():
            data[key if key not in data else f"{name}.{key}"] = value
    return data


async def erase_member(repos: Repos, member_id: int) -> int:
    """Deletes everything stored about the member, the member row last; rows removed."""
    return sum([await repo.erase(member_id) for _, repo in member_data(repos)])


# -- retention ---------------------------------------------------------------------------------


async def purge_expired(
    repos: Repos,
    now: datetime,
    days_for: Callable[[Member], int],
    idle: timedelta,
) -> int:
    """Erases check-ins, exercises and slips older than each member's limit (`days_for`), and
    unfinished flows idle longer than `idle`. Returns how many rows went."""
    removed = await repos.sessions.purge_idle(now - idle)
    for member_id in await repos.members.ids():
        member = await repos.members.by_id(member_id)
        if member is None:
            continue
        cutoff = now - timedelta(days=days_for(member))
        removed += await repos.checkins.purge(member_id, cutoff)
        removed += await repos.practices.purge(member_id, cutoff)
        removed += await repos.counters.purge_slips(member_id, cutoff.date())
    return removed
