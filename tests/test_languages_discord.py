"""Languages on Discord end to end (issue 16): a real discord.py client against the fake
Discord. A member whose app is in Spanish (es-419 or es-ES) is answered in Spanish without
choosing, the adapter's own words (a form's button and title) included; the slash commands
carry Spanish descriptions, option names and choices for es-ES and es-419."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bots.discord_adapter import DiscordAdapter
from core.app import Unblend
from core.kernel.catalog import Catalog
from tests.fake_discord import FakeDiscord, Member
from tests.rigs import discord_bot, discord_server

SPANISH = ("es-ES", "es-419")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_server() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord, app: Unblend) -> AsyncIterator[DiscordAdapter]:
    async with discord_bot(fake, app) as adapter:
        yield adapter


@pytest.fixture
def es(app: Unblend) -> Catalog:
    return app.library.catalog("es")


def speaker(fake: FakeDiscord, user_id: int, name: str, locale: str) -> Member:
    member = Member(fake, user_id, name)
    member.user.locale = locale
    return member


def synced(fake: FakeDiscord) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in fake.commands["global"]}


async def test_slash_commands_are_described_in_spanish_for_es_es_and_es_419(
    fake: FakeDiscord, bot: DiscordAdapter, es: Catalog
) -> None:
    commands = synced(fake)
    for locale in SPANISH:
        assert commands["checkin"]["description_localizations"][locale] == es.text(
            "commands.checkin"
        )
        assert commands["crisis"]["description_localizations"][locale] == es.text("commands.crisis")
    # Names stay as members type them; English is the default, untranslated.
    assert not commands["checkin"].get("name_localizations")
    assert "en-US" not in commands["checkin"]["description_localizations"]
    parts = {o["name"]: o for o in commands["parts"]["options"]}
    assert parts["part"]["name_localizations"] == {"es-ES": "parte", "es-419": "parte"}
    assert parts["add"]["name_localizations"]["es-419"] == "añadir"
    assert parts["talk"]["description_localizations"]["es-ES"] == es.text("discord.option.talk")
    [exercise] = commands["ground"]["options"]
    surf = next(c for c in exercise["choices"] if c["value"] == "surf")
    assert surf["name_localizations"]["es-419"] == es.text("ground.label.surf")
    # A subcommand of a group, and its options.
    group = {o["name"]: o for o in commands["group"]["options"]}
    settings = group["settings"]
    assert settings["description_localizations"]["es-ES"] == es.text("discord.sub.group_settings")
    setting = {o["name"]: o for o in settings["options"]}["setting"]
    assert setting["name_localizations"]["es-ES"] == "ajuste"
    # /language offers each language by its own name, in every app language.
    [language] = commands["language"]["options"]
    assert [c["name"] for c in language["choices"]] == ["English", "Español"]
    assert not any(c.get("name_localizations") for c in language["choices"])


async def test_a_spanish_app_gets_spanish_without_choosing(
    fake: FakeDiscord, bot: DiscordAdapter, es: Catalog
) -> None:
    lucia = speaker(fake, 21, "Lucía", "es-419")
    lucia.write_label = es.text("discord.write_button")
    await lucia.slash("start")
    await lucia.expect("Hola, soy Unblend")
    await lucia.tap("De acuerdo")
    await lucia.expect("¿Quieres que guarde tus check-ins")
    await lucia.tap("Sí, guardarlos")
    await lucia.slash("checkin")
    await lucia.expect("¿Cómo está tu ánimo ahora mismo?")
    await lucia.tap("4")
    await lucia.expect("¿Qué intensidad tiene ahora mismo cualquier impulso?")
    await lucia.tap("3")
    await lucia.expect("¿Qué parte de ti se siente más presente")
    await lucia.tap("No lo sé")
    await lucia.expect("¿Tu cuerpo o alguna necesidad")
    await lucia.tap("Cansancio")
    note = await lucia.expect("con tus palabras")
    labels = [b["label"] for b in note.message.buttons()]
    assert "Escribirlo" in labels and "Saltar" in labels and "Write it" not in labels
    opened = await lucia.tap("Escribirlo")
    modal = await fake.wait_for(lambda: opened.modal)
    assert modal["title"] == es.text("discord.modal_title")
    # An app in English, in the same server: English.
    ann = speaker(fake, 22, "Ann", "en-US")
    await ann.slash("start")
    await ann.expect("I'm Unblend")


async def test_the_language_command_and_a_spanish_group(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    pablo = speaker(fake, 23, "Pablo", "es-ES")
    await pablo.slash("language", language="en")
    await pablo.expect("I'll talk with you in English")
    await pablo.slash("start")
    await pablo.expect("I'm Unblend")
    # A moderator (Manage Server) sets the server's language; its settings show it.
    mod = speaker(fake, 24, "Mod", "en-US")
    await mod.slash(
        "group", guild=True, permissions=32, sub="settings", setting="language", value="es"
    )
    await mod.expect("Guardado. language ahora es: Español")
    found = await mod.autocomplete("group", "settings", "value", "", setting="language")
    assert [c["value"] for c in found] == ["en", "es", "default"]


@pytest.mark.parametrize("locale", ["es-ES" * 500, "../es", "es\u202e", "xx-YY"])
async def test_an_odd_locale_from_discord_is_never_trusted(
    fake: FakeDiscord, bot: DiscordAdapter, locale: str
) -> None:
    odd = speaker(fake, 25, "Odd", locale)
    await odd.slash("start")
    await odd.expect("I'm Unblend")
