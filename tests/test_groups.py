"""Group chats in the core: private commands open the private chat; nothing private shows."""

from __future__ import annotations

from core.app import Unblend
from core.kernel.menu import MenuScope, command_menu
from core.kernel.model import Event, Reply, Space
from tests.chat import Chat

GROUP = Space.group("g1")


async def in_group(app: Unblend, command: str, user: str = "u1", *args: str) -> list[Reply]:
    return await app.handle(Event("test", user, GROUP, command=command, args=args))


async def test_a_private_command_in_a_group_answers_with_one_public_line_and_a_link(
    app: Unblend,
) -> None:
    for name in ("checkin", "ground", "history", "consent", "start", "stop"):
        [reply] = await in_group(app, f"/{name}@UnblendBot")
        assert reply.private is False
        assert reply.private_link == name
        assert f"/{name}" in reply.text and reply.choices == ()


async def test_a_group_command_touches_no_private_flow(app: Unblend, chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.tap("4")
    [reply] = await in_group(app, "/stop")
    assert reply.private_link == "stop"
    # The check-in is where it was: the group's /stop opened a link, it did not stop it.
    await chat.send("/back")
    assert "How is your mood" in chat.text()


async def test_commands_for_other_bots_and_plain_group_talk_get_no_answer(app: Unblend) -> None:
    assert await in_group(app, "/weather") == []
    talk = await app.handle(Event("test", "u1", GROUP, text="see you all on Thursday"))
    assert talk == []


async def test_crisis_in_a_group_is_private_with_a_resources_only_fallback(app: Unblend) -> None:
    [reply] = await in_group(app, "/crisis")
    assert reply.private is True and reply.choices, "privately: the full crisis reply"
    fallback = reply.group_fallback
    assert fallback is not None and fallback.private is False
    assert fallback.choices == () and fallback.private_link == ""
    assert "People you can reach (United Kingdom)" in fallback.text
    assert "send /start" in fallback.text


async def test_crisis_words_in_a_group_never_echo_what_was_said(app: Unblend) -> None:
    said = "I want to kill myself"
    # A group's conversation is screened only after its moderators opt in (issue 7).
    assert await app.handle(Event("test", "u1", GROUP, text=said)) == []
    opt_in = ("settings", "screening", "on")
    await app.handle(Event("test", "mod", GROUP, command="/group", args=opt_in, is_moderator=True))
    [reply] = await app.handle(Event("test", "u1", GROUP, text=said))
    assert reply.private and reply.group_fallback is not None
    assert said not in reply.group_fallback.text


async def test_help_in_a_group_is_public_with_a_way_into_the_private_chat(app: Unblend) -> None:
    [reply] = await in_group(app, "/help")
    assert reply.private is False and reply.private_link == "start"
    assert "/checkin" in reply.text


async def test_start_with_a_payload_runs_that_command_after_the_welcome(chat: Chat) -> None:
    await chat.send("/start checkin")
    assert "I'm Unblend" in chat.text()
    await chat.tap("Okay")
    await chat.tap("Yes, keep them")
    assert "How is your mood" in chat.text()
    await chat.send("/start history")
    assert "Last 7 days" in chat.text() or "no check-ins" in chat.text()


async def test_start_with_an_unknown_or_odd_payload_is_a_plain_start(chat: Chat) -> None:
    await chat.welcome()
    for payload in ("nope", "start", "<b>x</b>", "x" * 64):
        await chat.send(f"/start {payload}")
        assert chat.text().startswith("Welcome back"), payload


async def test_the_menu_lists_described_commands_within_platform_limits(app: Unblend) -> None:
    catalog = app.library.catalog()
    names = list(app.registry.commands)
    private = dict(command_menu(catalog, names, MenuScope.PRIVATE))
    group = dict(command_menu(catalog, names, MenuScope.GROUP))
    assert list(private)[:3] == ["checkin", "ground", "history"]
    assert list(private)[-2:] == ["crisis", "help"]
    assert "consent" in private and "consent" not in group
    assert "sos" not in private and "stop" not in private
    for name, description in private.items():
        assert name.isascii() and len(name) <= 32 and 1 <= len(description) <= 256
