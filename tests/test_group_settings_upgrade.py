"""Migration 0020 on both engines: a group's six older settings (columns of `groups` until then)
are kept by name like every other group setting, and a group set up before the upgrade keeps
every value its moderators chose."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import core.storage.postgresql
import core.storage.sqlite
from core.groups.records import Group
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Space
from core.storage.database import migration_scripts
from core.storage.engines import StorageUrl
from tests.engines import ENGINES, app_on_storage, open_storage
from tests.pg_cluster import PgCluster

BEFORE = 20
NOW = datetime(2026, 6, 8, 7, 0, tzinfo=UTC).isoformat()
# platform, space, timezone, country, summary, moderators' channel, volunteers, language
CHOSEN = (
    ("test", "g1", "Europe/Berlin", "DE", "", "555", 1, "es"),
    ("test", "g2", "UTC", "", "21:00", "", 0, ""),  # never changed: the defaults
    ("test", "g3", "America/New_York", "US", "19:30", "", 1, ""),
)


def _storage(engine: str, request: pytest.FixtureRequest, folder: Path) -> StorageUrl:
    if engine == "sqlite":
        return StorageUrl("sqlite", folder / "unblend.sqlite")
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return StorageUrl("postgresql", None, cluster.create_database(f"upgrade_{folder.name}"))


async def _release_before(
    storage: StorageUrl, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database as the release before 0020 left it: settings in the columns, and one
    setting a feature declared later kept by name."""

    def older(dialect: str = "sqlite") -> list[tuple[int, str, str]]:
        return [s for s in migration_scripts(dialect) if s[0] < BEFORE]  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(core.storage.sqlite, "migration_scripts", older)
        patch.setattr(core.storage.postgresql, "migration_scripts", older)
        db, _cipher = await open_storage(storage, folder)
    try:
        assert await db.schema_version() == BEFORE - 1
        for row in CHOSEN:
            await db.execute(
                "INSERT INTO groups (platform, space_id, timezone, country, summary_time,"
                " mod_channel, volunteers, language, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, NOW),
            )
        await db.execute(
            "INSERT INTO group_settings (group_id, name, value, updated_at)"
            " VALUES (1, 'welcome_note', 'be kind', ?)",
            (NOW,),
        )
    finally:
        await db.close()


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_group_set_up_before_the_upgrade_keeps_every_setting(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = _storage(engine, request, tmp_path)
    await _release_before(storage, tmp_path, monkeypatch)
    app, db = await app_on_storage(storage, tmp_path, FakeClock())
    try:
        assert await db.schema_version() == migration_scripts(db.dialect)[-1][0] >= BEFORE
        groups = await app.repos.groups.all()
        assert [
            (g.platform, g.space_id, g.timezone, g.country, g.summary_time, g.mod_channel, *flags)
            for g in groups
            for flags in [(int(g.volunteers), g.language)]
        ] == list(CHOSEN)
        # By name, as every setting is: the kept one is untouched beside them.
        assert await app.repos.groups.setting(1, "timezone") == "Europe/Berlin"
        assert await app.repos.groups.setting(1, "volunteers") == "on"
        assert await app.repos.groups.setting(2, "volunteers") == "off"
        assert await app.repos.groups.setting(1, "welcome_note") == "be kind"
        # No setting is a column any more.
        with pytest.raises(Exception):  # noqa: B017 - each engine names its own error
            await db.fetchall("SELECT timezone FROM groups")

        # What a moderator sees, and changes, after the upgrade.
        def ask(text: str) -> Event:
            name, *args = text.split()
            group = Space.group("g3")
            return Event("test", "mod", group, command=name, args=tuple(args), is_moderator=True)

        shown = "\n".join(r.text for r in await app.handle(ask("/group settings")))
        assert "America/New_York" in shown and "19:30" in shown
        await app.handle(ask("/group settings summary off"))
        changed = await app.repos.groups.by_id(3)
        assert changed is not None and changed.summary_time == ""
        assert changed.timezone == "America/New_York" and changed.volunteers
    finally:
        await db.close()


async def test_a_new_group_has_the_defaults_until_a_moderator_sets_one(tmp_path: Path) -> None:
    app, db = await app_on_storage(
        StorageUrl("sqlite", tmp_path / "unblend.sqlite"), tmp_path, FakeClock()
    )
    try:
        group = await app.repos.groups.get_or_create("test", "new", datetime.fromisoformat(NOW))
        assert group == Group(group.id, "test", "new")
        assert await app.repos.groups.setting(group.id, "timezone") is None
    finally:
        await db.close()
