"""/privacy, /export and /forget: see, take and erase what is stored about you."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.checkin.logic import PART_OPTION_PREFIX
from core.kernel.feature import Feature
from core.kernel.model import Choice, Reply
from core.kernel.turn import Host, Turn
from core.privacy.content import MESSAGES
from core.privacy.data import (
    UnpostReport,
    checkins_csv,
    erase_member,
    export_json,
    export_member,
    purge_expired,
    unpost_shares,
)
from core.privacy.ports import host, stores

FORGET_PREFIX = "forget"
PRIVACY_COMMANDS = frozenset({"privacy", "export", "forget", FORGET_PREFIX})


def retention_days(turn: Turn) -> int:
    """The member's effective limit: the default, never above the hard cap."""
    return turn.app.retention_days(turn.member)


async def show_privacy(turn: Turn, args: tuple[str, ...]) -> None:
    settings = turn.app.settings
    contact = settings.privacy_contact or turn.cat.text("privacy.contact_default")
    turn.say("privacy.summary", days=retention_days(turn), contact=contact)


def _labels(turn: Turn, step: str) -> dict[str, str]:
    flow = turn.cat.flows.get("checkin")
    if flow is None or step not in flow.steps:
        return {}
    return {o.id: o.label for o in flow.step(step).options}


def _readable_checkins(turn: Turn, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Check-ins with the words the member saw next to the stored ids (part names, needs)."""
    parts = {f"{PART_OPTION_PREFIX}{p['id']}": p["name"] for p in data.get("parts", [])}
    part_labels = {**_labels(turn, "part"), **parts}
    need_labels = _labels(turn, "need")
    rows = []
    for row in data.get("checkins", []):
        rows.append(
            {
                **row,
                "part": part_labels.get(str(row.get("part")), row.get("part")),
                "need": need_labels.get(str(row.get("need")), row.get("need")),
            }
        )
    return rows


async def export_data(turn: Turn, args: tuple[str, ...]) -> None:
    declared = host(turn.app).registry.member_data
    data = await export_member(stores(turn.repos), turn.member.id, declared)
    if "member" not in data:
        # Nobody stored under this account (a member row holds even the smallest choice).
        turn.say("privacy.export_nothing")
        return
    data["checkins"] = _readable_checkins(turn, data)
    day = turn.now.date().isoformat()
    document = {"exported_at": turn.now.isoformat(timespec="seconds"), **data}
    turn.add(
        Reply(
            turn.cat.text("privacy.export_ready"),
            file=export_json(document),
            file_name=f"unblend-export-{day}.json",
        )
    )
    turn.add(
        Reply(
            turn.cat.text("privacy.export_csv", count=len(data["checkins"])),
            file=checkins_csv(data["checkins"]),
            file_name=f"unblend-checkins-{day}.csv",
        )
    )


async def forget(turn: Turn, args: tuple[str, ...]) -> None:
    if not turn.member.id:
        turn.say("privacy.forget_nothing")
        return
    choices = (
        Choice(f"{FORGET_PREFIX}:yes", turn.cat.text("privacy.forget_yes")),
        Choice(f"{FORGET_PREFIX}:no", turn.cat.text("privacy.forget_no")),
    )
    turn.say("privacy.forget_confirm", choices)


async def forget_choice(turn: Turn, rest: str) -> None:
    if rest == "no":
        turn.say("privacy.forget_kept")
    elif rest != "yes":
        turn.say("flow.stale")
    elif not turn.member.id:
        # Already erased (a second tap): nothing is stored, and nothing new was made.
        turn.say("privacy.forget_nothing")
    else:
        # Shared lines come down from the groups first: their message ids go with the rest.
        unposted = await unpost_shares(
            stores(turn.repos), turn.app.outbound, turn.member.id, turn.now
        )
        for hook in turn.app.erase_hooks:
            await hook(turn.member)
        await erase_member(stores(turn.repos), turn.member.id, host(turn.app).registry.member_data)
        host(turn.app).crisis_words.forget((turn.event.platform, turn.event.user_id))
        # Nothing else in this turn may store anything for the erased member.
        turn.session = None
        turn.say("privacy.forgotten")
        _say_unposted(turn, unposted)


def _say_unposted(turn: Turn, report: UnpostReport) -> None:
    """What came down from the groups, and what could not (and who can still remove it)."""
    if report.deleted:
        turn.say("privacy.forget_groups_deleted", count=report.deleted)
    if report.too_old and report.window_hours:
        turn.say("privacy.forget_groups_too_old", count=report.too_old, hours=report.window_hours)
    failed = report.failed + (report.too_old if not report.window_hours else 0)
    if failed:
        turn.say("privacy.forget_groups_failed", count=failed)


async def purge(app: Host, now: datetime) -> int:
    """Check-ins, exercises, slips, names and closed reach-out requests past each member's
    retention, unfinished flows left idle, the moderators' audit log past the hard cap, and
    the private messages the outbox sent (or gave up on) past the default retention."""
    settings = app.settings
    removed = await purge_expired(
        stores(app.repos),
        now,
        app.retention_days,
        settings.idle_timeout,
        # The moderators' audit log is kept up to the hard cap (issue 7).
        audit_days=max(1, settings.retention_days_max),
    )
    # So the outbox does not grow without end (issue 12); a group's own messages follow that
    # group's retention (core/groups/checkins/feature.py).
    days = max(1, min(settings.retention_days, settings.retention_days_max))
    return removed + await stores(app.repos).outbox.purge_private(now - timedelta(days=days))


FEATURE = Feature(
    name="privacy",
    order=80,
    commands={"privacy": show_privacy, "export": export_data, "forget": forget},
    buttons=frozenset({"privacy", "export"}),
    choices={FORGET_PREFIX: forget_choice},
    traceless=PRIVACY_COMMANDS,
    messages=MESSAGES,
    purge=purge,
)
