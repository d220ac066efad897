"""Languages on Telegram end to end (issue 16): the real PTB Application against the fake Bot
API. A member whose Telegram is in Spanish is answered in Spanish without choosing, taps
included; the command menu is set in Spanish for every scope; a Spanish group's prompt and
its button are in Spanish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bots.telegram_adapter import TelegramAdapter, menu_languages
from core.app import Unblend
from core.groups.checkins.engine import GroupEngine
from core.kernel.clock import FakeClock
from core.outbox.drainer import OutboxDrainer
from tests.fake_telegram import FakeTelegram, Member
from tests.rigs import telegram_bot, telegram_server

GROUP = -1001234567890
SCOPES = ("all_private_chats", "all_group_chats", "all_chat_administrators")
MORNING = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with telegram_server() as server:
        yield server
    assert server.rejections == [], "the fake Bot API refused calls"


@pytest.fixture
async def bot(fake: FakeTelegram, app: Unblend) -> AsyncIterator[TelegramAdapter]:
    async with telegram_bot(fake, app) as adapter:
        yield adapter


def spanish(fake: FakeTelegram, user_id: int, name: str, code: str = "es") -> Member:
    member = Member(fake, user_id, name)
    member.user.language_code = code
    return member


async def test_a_spanish_telegram_gets_spanish_without_choosing(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    lucia = spanish(fake, 2001, "Lucía")
    lucia.send("/start")
    await lucia.expect("Hola, soy Unblend")
    # A tap carries the member's language too: the next step is Spanish.
    lucia.tap("De acuerdo")
    await lucia.expect("¿Quieres que guarde tus check-ins")
    lucia.tap("Sí, guardarlos")
    lucia.send("/checkin")
    await lucia.expect("¿Cómo está tu ánimo ahora mismo?")
    # Someone else's Telegram in English is still answered in English.
    ann = Member(fake, 2002, "Ann")
    ann.send("/start")
    await ann.expect("I'm Unblend")


async def test_a_chosen_language_wins_over_telegrams(
    fake: FakeTelegram, bot: TelegramAdapter
) -> None:
    ana = spanish(fake, 2003, "Ana")
    ana.send("/language")
    await ana.expect("Idioma que uso contigo: Español")
    ana.tap("English")
    await ana.expect("I'll talk with you in English")
    ana.send("/start")
    await ana.expect("I'm Unblend")


async def test_the_command_menu_is_set_in_spanish_for_every_scope(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend
) -> None:
    es = app.library.catalog("es")
    for scope in SCOPES:
        english = {c["command"]: c["description"] for c in fake.commands[scope]}
        spanish_menu = {
            c["command"]: c["description"] for c in fake.localized_commands[(scope, "es")]
        }
        # The same commands, described in Spanish.
        assert list(spanish_menu) == list(english)
        assert spanish_menu["crisis"] == es.text("commands.crisis")
        assert spanish_menu["help"] != english["help"]
    assert fake.localized_commands[("all_private_chats", "es")][0]["description"] == es.text(
        "commands.checkin"
    )
    private = {c["command"] for c in fake.commands["all_private_chats"]}
    assert "language" in private
    assert menu_languages(("en", "es", "pt", "pt-br")) == [("en", ""), ("es", "es"), ("pt", "pt")]


async def test_a_spanish_groups_prompt_and_button_are_spanish(
    fake: FakeTelegram, bot: TelegramAdapter, app: Unblend, clock: FakeClock
) -> None:
    host = Member(fake, 1, "Host")  # the fake's chat creator: a moderator; Telegram in English
    clock.set(MORNING - timedelta(hours=1))
    host.send("/group settings language es", group=GROUP)
    await host.expect("Guardado. language ahora es: Español", chat=GROUP)
    host.send("/schedule add 09:00 UTC", group=GROUP)
    await host.expect("09:00", chat=GROUP)
    engine = GroupEngine(app.repos, app.library.catalog(), clock, languages=app.languages)
    drainer = OutboxDrainer(app.repos, app.outbound, clock)
    clock.set(MORNING)
    await engine.run_due_posts(MORNING)
    assert await drainer.drain("telegram") == 1
    prompt = await host.expect("Es la hora de nuestro check-in", chat=GROUP)
    [button] = prompt.message.buttons()
    assert button["text"] == "Hacer mi check-in en privado"
    # A member whose Telegram gives no language, typing in the group: the group's language.
    quiet = spanish(fake, 2004, "Sam", code="")
    quiet.send("/help", group=GROUP)
    await quiet.expect("Esto es lo que puedo hacer", chat=GROUP)


@pytest.mark.parametrize("code", ["es" * 5000, "es\u202e", "../../es", "ＥＳ", "es\x00en"])
async def test_an_odd_language_code_from_telegram_is_never_trusted(
    fake: FakeTelegram, bot: TelegramAdapter, code: str
) -> None:
    odd = spanish(fake, 2005, "Odd", code=code)
    odd.send("/start")
    await odd.expect("I'm Unblend")
    odd.tap("Okay")
    await odd.expect("keep your check-ins")
