"""Each feature declares itself (issue 14): its commands and where they answer, its group
settings, the content it needs and the stores holding member data. The app, the platforms and
the content check read those declarations, so nothing can be left out of one of them."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Any, cast

from bots.discord_groups import _settings, _values
from core.api import (
    ALL_FEATURES,
    CORE,
    PLATFORMS,
    Command,
    Event,
    Feature,
    GroupSetting,
    MenuScope,
    Space,
    Unblend,
    Where,
    command_menu,
    content_contract,
    in_memory_repos,
    sqlite_repos,
)
from core.grounding.menu import EXERCISES, exercises
from core.groups.declared import setting_value
from core.kernel.catalog import ContentLibrary, check_content
from core.kernel.clock import FakeClock
from core.kernel.ports import MemberData
from core.storage.keyring import open_encrypted
from tests.conftest import detector, library
from tests.roster import Roster

REPO = Path(__file__).resolve().parent.parent
ADAPTERS = sorted(
    p
    for p in (REPO / "bots").glob("*.py")
    if p.name.startswith(("discord_", "telegram_")) or p.name == "console.py"
)


class Typed:
    """What Discord's autocomplete hands over: the interaction's other options so far."""

    def __init__(self, **options: str) -> None:
        self.namespace = type("Namespace", (), options)()


async def test_discord_offers_every_declared_group_setting(app: Unblend) -> None:
    declared = app.registry.group_settings
    # Issue 7's settings are declared like the others, so they are offered like the others.
    assert {"screening", "retention", "timezone", "language"} <= set(declared)
    suggest = _settings(declared)
    offered = [c.value for c in await suggest(cast(Any, Typed()), "")]
    assert offered == list(declared)
    assert [c.value for c in await suggest(cast(Any, Typed()), "re")] == ["retention"]


async def test_discord_suggests_each_settings_declared_values(app: Unblend) -> None:
    declared = app.registry.group_settings
    values = _values(app.library.catalog(), app.languages.shipped, declared)
    shown = [c.value for c in await values(cast(Any, Typed(setting="screening")), "")]
    assert shown == ["on", "off"]
    countries = [c.value for c in await values(cast(Any, Typed(setting="country")), "G")]
    assert "GB" in countries


async def test_a_setting_nobody_declared_is_unknown_to_the_group(app: Unblend) -> None:
    assert "colour" not in app.registry.group_settings


def test_every_store_holding_member_data_is_declared_by_one_feature(app: Unblend) -> None:
    holding = {name for name, repo in vars(app.repos).items() if isinstance(repo, MemberData)}
    assert set(app.registry.member_data) == holding
    assert app.registry.member_data["checkins"] == "checkin"


def test_where_a_command_answers_comes_from_its_declaration(app: Unblend) -> None:
    where = app.registry.where
    assert where("crisis") is Where.MEMBER and where("help") is Where.GROUP
    assert where("schedule") is Where.MODERATOR and where("volunteer") is Where.GROUP
    assert where("checkin") is Where.PRIVATE and where("no-such-command") is Where.PRIVATE
    assert app.registry.public_in_group("group") and not app.registry.public_in_group("sos")


def test_the_menu_from_declarations_matches_the_menu_from_names(app: Unblend) -> None:
    catalog = app.library.catalog()
    for scope in MenuScope:
        by_name = command_menu(catalog, list(app.registry.commands), scope)
        assert command_menu(catalog, app.registry.declared, scope) == by_name


def test_only_a_button_opens_a_button_only_command(app: Unblend) -> None:
    hidden = {n for n, c in app.registry.declared.items() if c.button_only}
    assert hidden == {"gcheckin", "reachack"}
    menu = dict(command_menu(app.library.catalog(), app.registry.declared, MenuScope.PRIVATE))
    assert not hidden & set(menu)


def test_the_content_contract_is_the_features_declarations() -> None:
    contract = content_contract()
    declared: dict[str, str] = {}
    for feature in (CORE, *ALL_FEATURES, PLATFORMS):
        declared.update(feature.messages)
    assert set(contract.messages) == set(declared)
    assert contract.messages["flow.replaced"] == frozenset({"title"})
    assert "ground_box" in contract.flows and "welcome" in contract.flows


def test_a_new_grounding_exercise_is_a_flow_file_and_two_texts(
    tmp_path: Path, content_dir: Path
) -> None:
    base = tmp_path / "content"
    shutil.copytree(content_dir, base)
    flow = (base / "en/flows/ground_box.toml").read_text(encoding="utf-8")
    (base / "en/flows/ground_square.toml").write_text(
        flow.replace('id = "ground_box"', 'id = "ground_square"'), encoding="utf-8"
    )
    missing = check_content(base, contract=content_contract()).lines()
    assert any("ground.label.square" in line and "is missing" in line for line in missing)
    assert any("ground.about.square" in line for line in missing)
    (base / "en/messages/ground_square.toml").write_text(
        '[ground.label]\nsquare = "Square breathing"\n'
        '[ground.about]\nsquare = "in, hold, out, hold"\n',
        encoding="utf-8",
    )
    assert check_content(base, contract=content_contract()).lines() == []
    offered = exercises(ContentLibrary(base).catalog())
    assert offered == (*EXERCISES, "square")


def test_adapters_import_only_the_core_api() -> None:
    assert len(ADAPTERS) >= 8
    for path in ADAPTERS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core")
        }
        used |= {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
            if alias.name.startswith("core")
        }
        assert used <= {"core.api"}, path.name


def test_a_command_declared_twice_is_refused_at_start() -> None:
    from core.kernel.feature import Feature, build_registry

    twice = Feature("again", commands={"help": Command(where=Where.GROUP)})
    try:
        build_registry((CORE, twice))
    except ValueError as exc:
        assert "help" in str(exc)
    else:
        raise AssertionError("a second /help was accepted")


# -- a new group setting: its declaration (and its text), nothing else -------------------------

QUIET = GroupSetting("quiet", "/group settings quiet on", values=("on", "off"), default="off")
WITH_QUIET = (*ALL_FEATURES, Feature("quiet_hours", group_settings=(QUIET,)))
GROUP = Space.group("g1")


async def moderator(app: Unblend, text: str, is_moderator: bool = True) -> str:
    name, *args = text.split()
    event = Event("test", "mod", GROUP, command=name, args=tuple(args), is_moderator=is_moderator)
    return "\n".join(r.text for r in await app.handle(event))


async def quiet_value(app: Unblend) -> str:
    group = await app.repos.groups.get_or_create("test", GROUP.id, app.clock.now())
    return await setting_value(app.repos.groups, group.id, QUIET)


async def declared_setting_works(app: Unblend) -> None:
    assert await quiet_value(app) == "off", "its default until a moderator sets it"
    assert "Only this group's moderators" in await moderator(
        app, "/group settings quiet on", is_moderator=False
    )
    assert await quiet_value(app) == "off"
    assert "For example: /group settings quiet on" in await moderator(
        app, "/group settings quiet maybe"
    )
    assert "quiet is now: on" in await moderator(app, "/group settings quiet ON")
    assert await quiet_value(app) == "on"
    shown = await moderator(app, "/group settings", is_moderator=False)
    assert "quiet: on\n  change with /group settings quiet on" in shown
    assert "quiet" in await moderator(app, "/group audit")
    suggest = _settings(app.registry.group_settings)
    offered = [c.value for c in await suggest(cast(Any, Typed()), "q")]
    assert offered == ["quiet"]


async def test_a_declared_group_setting_is_set_kept_and_offered(
    clock: FakeClock, roster: Roster
) -> None:
    app = Unblend(in_memory_repos(), library(), detector(), clock, features=WITH_QUIET)
    app.membership.register("test", roster)
    await declared_setting_works(app)


async def test_a_declared_group_setting_is_kept_in_sqlite(
    tmp_path: Path, clock: FakeClock, roster: Roster
) -> None:
    db, cipher = await open_encrypted(tmp_path / "unblend.sqlite", {})
    try:
        app = Unblend(sqlite_repos(db, cipher), library(), detector(), clock, features=WITH_QUIET)
        app.membership.register("test", roster)
        await declared_setting_works(app)
    finally:
        await db.close()


def test_the_settings_help_names_every_declared_setting(app: Unblend) -> None:
    """Where no platform suggests names (Telegram), the help for an unknown setting lists them:
    in every shipped language, it names exactly the settings the features declare."""
    for locale in app.languages.shipped:
        text = app.languages.catalog(locale).text("group.unknown_setting", got="x")
        listed = text.rsplit(":", 1)[1].strip(" .").split(", ")
        assert listed == list(app.registry.group_settings), locale
