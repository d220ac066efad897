"""Privacy: the published policy filled from the config, and a member's export as files."""

from __future__ import annotations

import csv
import io
import json
import logging
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from core.kernel.failures import log_failure
from core.kernel.names import render_entries
from core.kernel.outbound import OutboundRouter
from core.kernel.ports import MemberData
from core.kernel.records import Member
from core.outbox.drainer import DeleteStatus, Unposter
from core.outbox.records import OutboxState
from core.privacy.ports import PrivacyStores

log = logging.getLogger(__name__)

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

CHECKIN_COLUMNS = ("date", "time", "mood", "urge", "part", "need", "note")


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


def member_data(
    repos: PrivacyStores, declared: Iterable[str] | None = None
) -> list[tuple[str, MemberData]]:
    """Every repository that holds member data, the member row's own repository last.

    `declared`: the stores the features declare as holding member data (Feature.member_data,
    `app.registry.member_data`); without it, every store that can export and erase."""
    # Repos is a dataclass: its fields, in their order, then the stores features declare.
    stored = {n: r for n, r in vars(repos).items() if n != "own"} | dict(repos.own)
    if declared is not None:
        names = set(declared)
        if unknown := names - set(stored):
            raise ValueError(f"no such store: {sorted(unknown)}")
        found = [(n, cast(MemberData, r)) for n, r in stored.items() if n in names]
    else:
        found = [(n, r) for n, r in stored.items() if isinstance(r, MemberData)]
    return sorted(found, key=lambda item: item[1] is repos.members)


async def export_member(
    repos: PrivacyStores, member_id: int, declared: Iterable[str] | None = None
) -> dict[str, Any]:
    """Everything stored about the member, one section per kind of data."""
    data: dict[str, Any] = {}
    for name, repo in member_data(repos, declared):
        for key, value in (await repo.export(member_id)).items():
            # Messages name other members by id: their names as they are now, or a neutral
            # stand-in once they erased their data (core.kernel.names).
            value = await render_entries(value, repos.names)
            data[key if key not in data else f"{name}.{key}"] = value
    return data


async def erase_member(
    repos: PrivacyStores, member_id: int, declared: Iterable[str] | None = None
) -> int:
    """Deletes everything stored about the member, the member row last; rows removed."""
    return sum([await repo.erase(member_id) for _, repo in member_data(repos, declared)])


# -- shared lines taken back out of groups (/forget) --------------------------------------------


@dataclass
class UnpostReport:
    """What /forget did with the member's shared lines in groups."""

    deleted: int = 0  # taken down (or never posted: the queued send was cancelled)
    too_old: int = 0  # older than the platform lets a bot delete
    failed: int = 0  # refused, a hiccup, or the platform is not connected now
    window_hours: int = 0  # the shortest deletion window met, for the member's message


async def unpost_shares(
    repos: PrivacyStores, router: OutboundRouter, member_id: int, now: datetime
) -> UnpostReport:
    """Deletes the member's posted shared lines from their groups where the platform allows.

    Runs before erasure: the message ids are erased with everything else right after.
    """
    report = UnpostReport()
    shares = await repos.groups.posted_shares(member_id)
    queued: set[int] = set()
    if any(not s.message_ref for s in shares):
        queued = {
            i.share_id
            for i in await repos.outbox.items()
            if i.share_id is not None and i.state is OutboxState.PENDING
        }
    for share in shares:
        if not share.message_ref and share.id in queued:
            report.deleted += 1  # still in the outbox: erasing it cancels the send
            continue
        if not share.message_ref:
            report.failed += 1  # posted before message ids were kept (or never delivered)
            continue
        post = await repos.groups.post(share.post_id)
        group = await repos.groups.by_id(post.group_id) if post is not None else None
        sender = router.sender(group.platform) if group is not None else None
        if group is None or post is None or not isinstance(sender, Unposter):
            report.failed += 1
            continue
        window = sender.delete_window
        if window is not None:
            hours = max(1, int(window.total_seconds() // 3600))
            report.window_hours = min(report.window_hours or hours, hours)
        if window is not None and (share.posted_at is None or now - share.posted_at >= window):
            report.too_old += 1
            continue
        thread = ""
        for schedule in await repos.groups.schedules(group.id):
            if schedule.id == post.schedule_id:
                thread = schedule.target
        try:
            status = await sender.delete(group.platform, group.space_id, share.message_ref, thread)
        except Exception:
            log_failure(log, "forget: deleting a shared line failed (platform=%s)", group.platform)
            status = DeleteStatus.FAILED
        if status in (DeleteStatus.DELETED, DeleteStatus.GONE):
            report.deleted += 1
        elif status is DeleteStatus.TOO_OLD:
            report.too_old += 1
        else:
            report.failed += 1
    return report


# -- retention ---------------------------------------------------------------------------------


async def purge_expired(
    repos: PrivacyStores,
    now: datetime,
    days_for: Callable[[Member], int],
    idle: timedelta,
    audit_days: int | None = None,
) -> int:
    """Erases check-ins, exercises, slips and closed reach-out requests older than each
    member's limit (`days_for`), unfinished flows idle longer than `idle`, and audit entries
    older than `audit_days` (the hard cap). Returns how many rows went."""
    removed = await repos.sessions.purge_idle(now - idle)
    if audit_days is not None:
        removed += await repos.audit.purge(now - timedelta(days=audit_days))
    for member_id in await repos.members.ids():
        member = await repos.members.by_id(member_id)
        if member is None:
            continue
        cutoff = now - timedelta(days=days_for(member))
        removed += await repos.checkins.purge(member_id, cutoff)
        removed += await repos.practices.purge(member_id, cutoff)
        removed += await repos.counters.purge_slips(member_id, cutoff.date())
        removed += await repos.reachouts.purge(member_id, cutoff)
        removed += await repos.names.purge(member_id, cutoff)
    return removed
