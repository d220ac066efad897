"""Every member in their own language (issue 16): /language, the platform's language, the
group's language, and English last. A platform's language tag is untrusted text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from core.app import Unblend
from core.groups.checkins.engine import GroupEngine
from core.groups.times import hhmm
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Space
from core.language.languages import clean_tag, match_locale
from core.outbox.drainer import OutboxDrainer
from core.repos import sqlite_repos
from core.storage.keyring import open_encrypted
from tests.chat import Chat
from tests.conftest import detector, library
from tests.member_data import GroupPlatform, in_group, rows_about
from tests.roster import Roster

SHIPPED = ("en", "es")
GROUP = Space.group("g1")


class LocaleChat(Chat):
    """A member whose platform gives a language tag (Telegram language_code, Discord locale)."""

    def __init__(self, app: Unblend, locale: str, user_id: str = "u1", **kw: str) -> None:
        super().__init__(app, user_id)
        self.locale = locale
        self.from_group = kw.get("from_group", "")

    def _event(self, **kwargs: object) -> Event:
        event = super()._event(**kwargs)
        return replace(event, locale=self.locale, from_group=self.from_group)


async def test_language_lists_shipped_languages_by_their_own_names(app: Unblend) -> None:
    chat = Chat(app)
    await chat.send("/language")
    assert "Language I use with you: English" in chat.text()
    assert chat.labels() == ["English", "Español", "Same as my app"]
    # Asking stored nothing: no member row yet.
    assert await app.repos.members.find("test", "u1") is None
    await chat.tap("Español")
    assert "Listo: desde ahora te hablo en español" in chat.text()
    await chat.send("/start")
    assert "Hola, soy Unblend" in chat.text()


@pytest.mark.parametrize("typed", ["es", "ES", "es-MX", "español", "Espanol", "Spanish"])
async def test_language_takes_a_code_or_a_name(app: Unblend, typed: str) -> None:
    chat = Chat(app)
    await chat.send(f"/language {typed}")
    assert "Listo: desde ahora te hablo en español" in chat.text()
    member = await app.repos.members.find("test", "u1")
    assert member is not None and member.language == "es"


@pytest.mark.parametrize("typed", ["klingon", "fr", "e s", "x" * 300, "<b>es</b>", "../en"])
async def test_an_unknown_language_gets_the_choices_and_stores_nothing(
    app: Unblend, typed: str
) -> None:
    chat = Chat(app)
    await chat.send(f"/language {typed}")
    assert "I don't speak" in chat.text()
    assert "English (en), Español (es)" in chat.text()
    assert chat.labels() == ["English", "Español", "Same as my app"]
    assert "<b>" not in chat.text() and "x" * 100 not in chat.text()
    assert await app.repos.members.find("test", "u1") is None


async def test_a_forged_language_button_stores_nothing(app: Unblend) -> None:
    chat = Chat(app)
    await chat.choose("language:../../etc")
    await chat.choose("language:fr")
    assert chat.labels() == ["English", "Español", "Same as my app"]
    assert await app.repos.members.find("test", "u1") is None


@pytest.mark.parametrize("locale", ["es", "es-ES", "es-419", "es-MX", "es_MX", "ES"])
async def test_a_spanish_platform_gets_spanish_without_choosing(app: Unblend, locale: str) -> None:
    chat = LocaleChat(app, locale)
    await chat.send("/start")
    assert "Hola, soy Unblend" in chat.text()


async def test_the_members_choice_comes_before_the_platforms(app: Unblend) -> None:
    chat = LocaleChat(app, "es-419")
    await chat.send("/language en")
    assert "I'll talk with you in English" in chat.text()
    await chat.send("/start")
    assert "I'm Unblend" in chat.text()
    # Same as my app: the platform's language again, said in it.
    await chat.send("/language")
    await chat.tap("Same as my app")
    assert "Listo: uso el idioma de tu aplicación (ahora: Español)" in chat.text()
    member = await app.repos.members.find("test", "u1")
    assert member is not None and member.language is None


async def spanish_group(app: Unblend) -> None:
    said = await in_group(app, "mod", "/group settings language es")
    assert "Guardado. language ahora es: Español" in said


async def test_the_groups_language_comes_after_the_platforms(app: Unblend) -> None:
    await spanish_group(app)
    # No language from the platform, and the event comes from the group: the group's.
    said = "\n".join(r.text for r in await app.handle(Event("test", "u2", GROUP, command="help")))
    assert "Esto es lo que puedo hacer" in said
    # A tap from the group's server (Discord's from_group), answered privately: the group's.
    chat = LocaleChat(app, "", "u3", from_group="g1")
    await chat.send("/start")
    assert "Hola, soy Unblend" in chat.text()
    # A private chat says nothing of the group, and a platform in English stays English.
    assert "I'm Unblend" in "\n".join(r.text for r in await Chat(app, "u4").send("/start"))
    english = LocaleChat(app, "en-US", "u5", from_group="g1")
    await english.send("/start")
    assert "I'm Unblend" in english.text()


async def test_only_moderators_change_the_groups_language(app: Unblend) -> None:
    said = await in_group(app, "someone", "/group settings language es", moderator=False)
    assert "Only this group's moderators" in said
    said = await in_group(app, "mod", "/group settings language klingon")
    assert 'I don\'t have "klingon" as a language' in said and "Español (es)" in said
    await spanish_group(app)
    said = await in_group(app, "mod", "/group settings")
    assert "Idioma de lo que publico aquí: Español" in said
    said = await in_group(app, "mod", "/group settings language default")
    assert "Saved. language is now: English (none chosen)" in said


async def test_crisis_in_a_spanish_group_the_member_in_their_language_the_group_in_its(
    app: Unblend,
) -> None:
    await spanish_group(app)
    event = Event("test", "u2", GROUP, command="crisis", locale="en")
    [reply] = await app.handle(event)
    assert reply.private and "Are you safe right now?" in reply.text
    assert reply.group_fallback is not None
    assert "Personas a las que puedes acudir" in reply.group_fallback.text


@pytest.mark.parametrize(
    "raw",
    [
        "x" * 1_000_000,
        "es" + "\u200b",
        "ｅｓ",
        "e\u0301s",
        "../es",
        "es/../../etc",
        "es\x00",
        " ",
        "-",
        "es--",
        "💬",
    ],
)
async def test_an_odd_platform_language_is_never_trusted(app: Unblend, raw: str) -> None:
    assert match_locale(raw, SHIPPED) is None
    chat = LocaleChat(app, raw)
    await chat.send("/start")
    assert "I'm Unblend" in chat.text()


def test_tags_are_clamped_and_mapped_only_to_shipped_locales() -> None:
    assert clean_tag("es_MX") == "es-mx"
    assert clean_tag("x" * 36) == ""
    assert match_locale("es-419", SHIPPED) == "es"
    assert match_locale("pt-BR", SHIPPED) is None
    assert match_locale("pt-BR", ("en", "pt", "pt-br")) == "pt-br"
    assert match_locale("pt-PT", ("en", "pt", "pt-br")) == "pt"


async def test_language_is_exported_and_forgotten(tmp_path: Path, clock: FakeClock) -> None:
    db, cipher = await open_encrypted(tmp_path / "unblend.sqlite", {})
    try:
        app = Unblend(sqlite_repos(db, cipher), library(), detector(), clock)
        chat = Chat(app)
        await chat.send("/language es")
        await chat.send("/export")
        exported = next(r.file for r in chat.last if r.file_name.endswith(".json"))
        assert exported is not None
        assert json.loads(exported)["member"]["language"] == "es"
        member = await app.repos.members.find("test", "u1")
        assert member is not None
        assert any("'language': 'es'" in row for row in await rows_about(db, member.id, "u1"))
        await chat.send("/forget")
        await chat.tap("Sí, borrarlo todo")
        assert await rows_about(db, member.id, "u1") == []
        await chat.send("/start")
        assert "I'm Unblend" in chat.text()
    finally:
        await db.close()


async def test_a_paced_step_goes_on_in_the_members_language(app: Unblend, clock: FakeClock) -> None:
    chat = LocaleChat(app, "es-ES")
    await chat.send("/start")
    await chat.tap("De acuerdo")
    await chat.tap("Sí, guardarlos")
    sent: list[str] = []

    class Out:
        async def send(self, platform: str, user_id: str, replies: list[object]) -> None:
            sent.extend(getattr(r, "text", "") for r in replies)

    app.outbound.register("test", Out())  # type: ignore[arg-type]
    await chat.send("/ground paced")
    await chat.tap(chat.labels()[0])
    for _ in range(30):
        clock.advance(timedelta(seconds=5))
        await app.run_due()
    assert sent and all("Breathe" not in text for text in sent)
    assert any("Inhala" in text or "Exhala" in text for text in sent)


async def test_group_posts_are_in_the_groups_language(
    app: Unblend, clock: FakeClock, roster: Roster
) -> None:
    platform = GroupPlatform()
    app.outbound.register("test", platform)
    await spanish_group(app)
    engine = GroupEngine(app.repos, app.library.catalog(), clock, languages=app.languages)
    drainer = OutboxDrainer(app.repos, app.outbound, clock)
    at = hhmm((clock.now() + timedelta(minutes=1)).time())
    await in_group(app, "mod", f"/schedule add {at} UTC")
    clock.advance(timedelta(minutes=1))
    await engine.run_due_posts()
    await drainer.drain("test")
    prompt = platform.sent[-1].reply
    assert prompt.meta["link_label"] == app.library.catalog("es").text("gcheckin.open_button")
    assert prompt.text == app.library.catalog("es").text("gcheckin.prompt.default")
    # Members in English check in privately, in English; what the group sees is Spanish.
    for user in ("u7", "u8", "u9"):
        chat = LocaleChat(app, "en", user)
        await chat.send(f"/start {prompt.private_link}")
        await chat.tap("Okay")
        await chat.tap("Yes, keep them")
        assert "How is your mood" in chat.text()
        await chat.tap("4")
        await chat.tap("6")
        await chat.tap("Share my mood only" if user == "u7" else "Share nothing")
        await drainer.drain("test")
    shared = next(d.reply for d in platform.sent if "(ánimo 4 de 5)" in d.reply.text)
    assert "hizo su check-in hoy" in shared.text and shared.meta["locale"] == "es"
    # The day's summary, at the group's summary time, in Spanish.
    clock.advance(timedelta(minutes=1))
    at = hhmm((clock.now() + timedelta(minutes=1)).time())
    await in_group(app, "mod", f"/group settings summary {at}")
    clock.advance(timedelta(minutes=1))
    await engine.run_due_posts()
    await drainer.drain("test")
    assert "El check-in de hoy: 3 personas" in platform.sent[-1].reply.text


async def test_migration_0018_keeps_members_and_groups_and_stores_languages(
    tmp_path: Path, clock: FakeClock
) -> None:
    import sqlite3

    from core.storage.database import migration_scripts
    from tests.test_storage import sqlite_app

    path = tmp_path / "unblend.sqlite"
    conn = sqlite3.connect(path)
    for number, _name, sql in migration_scripts():
        if number < 18:
            conn.executescript(sql)
            conn.execute(f"PRAGMA user_version = {number}")
    now = clock.now().isoformat()
    conn.execute(
        "INSERT INTO members (platform, platform_user_id, created_at, country)"
        " VALUES ('test', 'old', ?, 'ES')",
        (now,),
    )
    conn.execute(
        "INSERT INTO groups (platform, space_id, created_at) VALUES ('test', 'g1', ?)", (now,)
    )
    conn.commit()
    conn.close()
    app, db = await sqlite_app(path, clock)
    try:
        member = await app.repos.members.find("test", "old")
        assert member is not None and member.country == "ES" and member.language is None
        [group] = await app.repos.groups.all()
        assert group.language == ""
        await app.repos.members.set_language(member.id, "es")
        await app.repos.groups.update(replace(group, language="es"))
        assert (await app.repos.groups.all())[0].language == "es"
        again = await app.repos.members.find("test", "old")
        assert again is not None and again.language == "es"
        assert "Hola, soy Unblend" in "\n".join(
            r.text for r in await Chat(app, "old").send("/start")
        )
    finally:
        await db.close()
