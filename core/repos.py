"""Every storage port of every capability, composed: what the app is given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from core.checkin.ports import CheckinRepo, CheckinStores
from core.checkin.store import InMemoryCheckinRepo, SqliteCheckinRepo
from core.days.ports import CounterRepo, DayStores
from core.days.store import InMemoryCounterRepo, SqliteCounterRepo
from core.features import ALL_FEATURES
from core.grounding.ports import GroundingStores, PracticeLogRepo
from core.grounding.store import InMemoryPracticeLogRepo, SqlitePracticeLogRepo
from core.groups.audit.ports import AuditRepo, AuditStores
from core.groups.audit.store import InMemoryAuditRepo, SqliteAuditRepo
from core.groups.checkins.ports import GroupCheckinStores
from core.groups.memory import InMemoryGroupRepo, InMemoryReminderRepo
from core.groups.ports import GroupRepo, ReminderRepo
from core.groups.reachouts.ports import ReachOutRepo, ReachOutStores
from core.groups.reachouts.store import InMemoryReachOutRepo, SqliteReachOutRepo
from core.groups.screening.ports import GroupSafetyRepo, ScreeningStores
from core.groups.screening.store import InMemoryGroupSafetyRepo, SqliteGroupSafetyRepo
from core.groups.store import SqliteGroupRepo, SqliteReminderRepo
from core.history.ports import HistoryStores
from core.kernel.crypto import Cipher
from core.kernel.feature import Feature
from core.kernel.ports import (
    MemberRepo,
    NameRepo,
    OneProcess,
    OwnStore,
    SessionRepo,
    TurnLocks,
    UnitOfWork,
    WritesAsTheyCome,
)
from core.outbox.ports import OutboxRepo, OutboxStores
from core.outbox.store import InMemoryOutboxRepo, SqliteOutboxRepo
from core.parts.ports import PartRepo, PartStores
from core.parts.store import InMemoryPartRepo, SqlitePartRepo
from core.privacy.ports import PrivacyStores
from core.safety_plan.ports import PlanStores, SafetyPlanRepo
from core.safety_plan.store import InMemorySafetyPlanRepo, SqliteSafetyPlanRepo
from core.storage.caching import keeps_cache
from core.storage.database import Database
from core.storage.memory import InMemoryMemberRepo, InMemorySessionRepo, InMemoryUnit
from core.storage.name_repos import InMemoryNameRepo, SqliteNameRepo
from core.storage.sqlite_repos import SqliteMemberRepo, SqliteSessionRepo, SqliteUnit
from core.welcome.ports import WelcomeStores


@dataclass(frozen=True)
class Repos:
    members: MemberRepo
    checkins: CheckinRepo
    parts: PartRepo
    sessions: SessionRepo
    practices: PracticeLogRepo
    plans: SafetyPlanRepo
    counters: CounterRepo
    # group check-ins (issue 6)
    groups: GroupRepo
    outbox: OutboxRepo
    reminders: ReminderRepo
    # reach-outs, volunteers, group membership, gone channels (issue 6)
    reachouts: ReachOutRepo
    # moderators' audit log (issue 7)
    audit: AuditRepo
    # a group's own crisis terms, screening and retention (issue 7, H5): group data only
    group_safety: GroupSafetyRepo
    # members' names, filled into messages when they are sent or exported (issue 12)
    names: NameRepo
    # writes that commit together (issue 12)
    unit: UnitOfWork = field(default_factory=WritesAsTheyCome)
    # the stores features declare themselves (Feature.stores), by name: a new feature's store
    # needs no field here
    own: Mapping[str, object] = field(default_factory=dict)
    # Other processes may write the same database (PostgreSQL, issue 17): what is read is
    # not kept in memory for later (core/storage/caching.py).
    shared: bool = False
    # One member's turns never overlap, whichever bot handles them (PostgreSQL, issue 17).
    turns: TurnLocks = field(default_factory=OneProcess)


def own_stores(features: tuple[Feature, ...]) -> list[OwnStore[Any]]:
    """The stores those features declare; a name used twice, or one of Repos' own, is a
    programming error caught at start."""
    taken = {f.name for f in fields(Repos)}
    found: dict[str, OwnStore[Any]] = {}
    for feature in features:
        for store in feature.stores:
            if store.name in taken or store.name in found:
                raise ValueError(f"feature {feature.name} redefines the store {store.name!r}")
            found[store.name] = store
    return list(found.values())


def sqlite_repos(
    db: Database, cipher: Cipher, features: tuple[Feature, ...] = ALL_FEATURES
) -> Repos:
    members, parts = SqliteMemberRepo(db), SqlitePartRepo(db, cipher)
    sessions = SqliteSessionRepo(db, cipher)
    alone = keeps_cache(db)  # this process is the database's only one (SQLite)
    return Repos(
        members,
        SqliteCheckinRepo(db, cipher),
        parts,
        sessions,
        practices=SqlitePracticeLogRepo(db),
        plans=SqliteSafetyPlanRepo(db, cipher),
        counters=SqliteCounterRepo(db, cipher),
        groups=SqliteGroupRepo(db, cipher),
        outbox=SqliteOutboxRepo(db, cipher),
        reminders=SqliteReminderRepo(db),
        reachouts=SqliteReachOutRepo(db, cipher),
        audit=SqliteAuditRepo(db, cipher),
        group_safety=SqliteGroupSafetyRepo(db, cipher),
        names=SqliteNameRepo(db, cipher),
        unit=SqliteUnit(db, [members, parts, sessions]),
        own={s.name: s.sqlite(db, cipher) for s in own_stores(features)},
        shared=not alone,
        turns=OneProcess() if alone else db,
    )


def in_memory_repos(features: tuple[Feature, ...] = ALL_FEATURES) -> Repos:
    outbox = InMemoryOutboxRepo()
    repos = Repos(
        InMemoryMemberRepo(),
        InMemoryCheckinRepo(),
        InMemoryPartRepo(),
        InMemorySessionRepo(),
        practices=InMemoryPracticeLogRepo(),
        plans=InMemorySafetyPlanRepo(),
        counters=InMemoryCounterRepo(),
        groups=(groups := InMemoryGroupRepo(outbox)),
        outbox=outbox,
        reminders=InMemoryReminderRepo(),
        reachouts=InMemoryReachOutRepo(outbox),
        audit=InMemoryAuditRepo(),
        group_safety=InMemoryGroupSafetyRepo(groups, outbox),
        names=InMemoryNameRepo(),
        own={s.name: s.memory() for s in own_stores(features)},
    )
    kernel = ("unit", "own", "shared", "turns")
    every = [getattr(repos, f.name) for f in fields(repos) if f.name not in kernel]
    every += list(repos.own.values())
    return replace(repos, unit=InMemoryUnit(every))


def _fits_every_view(
    repos: Repos,
) -> tuple[
    CheckinStores,
    GroundingStores,
    PartStores,
    PlanStores,
    DayStores,
    HistoryStores,
    WelcomeStores,
    PrivacyStores,
    OutboxStores,
    GroupCheckinStores,
    ReachOutStores,
    AuditStores,
    ScreeningStores,
]:
    """Never called: the type checker proves here that Repos provides every capability's view
    of the stores, which each capability's `stores()` relies on."""
    return (
        repos,
        repos,
        repos,
        repos,
        repos,
        repos,
        repos,
        repos,
        repos,
        repos,
        repos,
        repos,
        repos,
    )
