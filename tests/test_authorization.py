"""The authorization matrix: every command x (the member privately, the member in a group,
another member). Private commands never show member data in a group; no member ever reaches
another member's data, by command, by argument, or by replaying their buttons.
Moderator rows come with issue 6's moderators."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.app import BUILTIN_COMMANDS, Unblend
from core.features import ALL_FEATURES
from core.kernel.clock import FakeClock
from core.kernel.feature import build_registry
from core.kernel.model import Choice, Event, Reply, Space
from core.privacy.data import export_member
from tests.chat import Chat
from tests.member_data import COUNTER, NOTE, PART, PLAN, SLIP_NOTE, fill_everything

COMMANDS = sorted({*build_registry(ALL_FEATURES).commands, *BUILTIN_COMMANDS})
SECRETS = (NOTE, PART, PLAN, COUNTER, SLIP_NOTE)
ARGS = ((), (PART,), ("1",), ("add", PART))
GROUP = Space.group("-100200300")


def leaks(replies: list[Reply], typed: tuple[str, ...] = ()) -> list[str]:
    """Alice's words found in the replies (not counting words the asker typed themselves)."""
    texts = [r.text for r in replies] + [c.label for r in replies for c in r.choices]
    texts += [r.group_fallback.text for r in replies if r.group_fallback is not None]
    texts += [r.file.decode("utf-8", "replace") for r in replies if r.file is not None]
    return [s for s in SECRETS for t in texts if s in t and s not in typed]


class Recording(Chat):
    """A member whose every button, over the whole session, is kept for replaying."""

    seen: list[Choice]

    def __init__(self, app: Unblend, user_id: str) -> None:
        super().__init__(app, user_id)
        self.seen = []

    async def send(self, text: str) -> list[Reply]:
        replies = await super().send(text)
        self.seen += self.choices()
        return replies

    async def choose(self, choice_id: str) -> list[Reply]:
        replies = await super().choose(choice_id)
        self.seen += self.choices()
        return replies


def test_the_matrix_covers_every_command() -> None:
    for name in ("checkin", "history", "parts", "safetyplan", "days", "export", "forget"):
        assert name in COMMANDS
    assert {"privacy", "country", "crisis", "help", "start"} <= set(COMMANDS)


@pytest.mark.parametrize("args", ARGS, ids=["bare", "part-name", "id", "add-name"])
@pytest.mark.parametrize("command", COMMANDS)
async def test_the_member_in_a_group_never_sees_private_data_there(
    app: Unblend, command: str, args: tuple[str, ...]
) -> None:
    await fill_everything(app, Chat(app, "alice"))
    event = Event("test", "alice", GROUP, command=f"/{command}", args=args)
    replies = await app.handle(event)
    public = [r for r in replies if not r.private]
    assert leaks(public) == []
    for reply in replies:
        if reply.group_fallback is not None:
            assert leaks([reply.group_fallback]) == []
    # A private command answers there with one line and a link, nothing else.
    if command not in ("crisis", "sos", "help"):
        assert all(not r.private and not r.choices and r.file is None for r in replies)


@pytest.mark.parametrize("args", ARGS, ids=["bare", "part-name", "id", "add-name"])
@pytest.mark.parametrize("command", COMMANDS)
async def test_another_member_never_reaches_the_members_data(
    app: Unblend, command: str, args: tuple[str, ...]
) -> None:
    await fill_everything(app, Chat(app, "alice"))
    bob = Chat(app, "bob")
    await bob.welcome()
    replies = await app.handle(
        Event("test", "bob", Space.private("bob"), command=f"/{command}", args=args)
    )
    assert leaks(replies, args) == []
    # Bob's own taps on whatever came next still reach nothing of Alice's.
    for choice in [c for r in replies for c in r.choices][:4]:
        assert leaks(await bob.choose(choice.id), args) == [], choice.id


@pytest.mark.parametrize("command", COMMANDS)
async def test_the_member_privately_gets_an_answer(app: Unblend, command: str) -> None:
    await fill_everything(app, Chat(app, "alice"))
    replies = await app.handle(
        Event("test", "alice", Space.private("alice"), command=f"/{command}")
    )
    assert replies, command
    assert all("Something went wrong" not in r.text for r in replies)


async def test_replaying_another_members_buttons_reaches_nothing(
    app: Unblend, clock: FakeClock
) -> None:
    alice = Recording(app, "alice")
    alice_id = await fill_everything(app, alice)
    for command in ("parts", "safetyplan", "days", "history", "consent", "country", "forget"):
        clock.advance(timedelta(seconds=1))
        await alice.send(f"/{command}")
        for choice in list(alice.choices()):
            if choice.id == "forget:yes":
                continue  # Alice keeps her data; Bob will try this very button below.
            clock.advance(timedelta(seconds=1))
            await alice.choose(choice.id)
            await alice.send(f"/{command}")
    await alice.send("/stop")
    ids = sorted({c.id for c in alice.seen})
    assert len(ids) >= 20 and "forget:yes" in ids
    before = await export_member(app.repos, alice_id)
    assert before.get("safety_plan") and before.get("checkins")
    bob = Chat(app, "bob")
    await bob.welcome()
    for choice_id in ids:
        assert leaks(await bob.choose(choice_id)) == [], choice_id
    # Nothing Bob tapped changed or erased anything of Alice's.
    assert await export_member(app.repos, alice_id) == before
