"""Crisis words pause the flow at every text step of every flow, the last one included.

The steps come from the flow files themselves: a new text step is covered the day it is
written. At each one a member writes words that are a crisis happening now. The crisis reply
stands alone; what they wrote is held (encrypted with the unfinished flow), nothing is kept
yet, and only when they answer "are you safe right now?" or move on does the flow go on with
their words, exactly as it would have without the crisis reply (a twin bot that reads no
crisis words is the measure).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.flows import engine
from core.kernel.model import Event, Reply, Space
from core.kernel.settings import Settings
from core.privacy.data import export_member
from core.repos import in_memory_repos
from core.safety import CrisisDetector, Level, Verdict
from tests.chat import Chat
from tests.conftest import CONTENT, detector, library
from tests.console_process import ConsoleProcess
from tests.test_schedule_commands import MON_0700_UTC, Round

# A crisis said in the present, short enough for the shortest text step (40 characters).
NOW_WORDS = "I have the pills ready tonight"
# The same kind of words written as a warning sign, ahead of time.
DESCRIBED = "when I start thinking everyone would be better off without me"
SAFE = "I'm safe for now"


def text_steps() -> list[tuple[str, str]]:
    """(flow id, step id) of every text step in every flow file."""
    found = []
    for path in sorted((CONTENT / "en" / "flows").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for step_id, step in data["steps"].items():
            if step.get("kind") == "text":
                found.append((str(data["id"]), str(step_id)))
    return found


TEXT_STEPS = text_steps()
PLAN_STEPS = [(f, s) for f, s in TEXT_STEPS if f == "safetyplan"]


class ReadsNoCrisis(CrisisDetector):
    """The measure: a bot that never reads crisis words answers every step as meant."""

    def assess(self, text: str) -> Level:
        return Level.NONE

    def judge(self, text: str) -> Verdict:
        return Verdict(Level.NONE, None, None, None, False)

    def happening_now(self, text: str) -> bool:
        return False


@dataclass
class Member:
    app: Unblend
    chat: Chat
    context: dict[str, str]


async def member_at(flow_id: str, step_id: str, reads_crisis: bool) -> Member:
    """A welcomed member with a part, a kept check-in, a day counter with a slip and an open
    group check-in, standing at `step_id` of `flow_id` with whatever that flow carries."""
    clock = FakeClock(MON_0700_UTC - timedelta(minutes=30))
    judge = detector() if reads_crisis else ReadsNoCrisis(detector()._lexicon)
    app = Unblend(in_memory_repos(), library(), judge, clock, Settings(default_country="GB"))
    chat = Chat(app)
    await chat.welcome()
    await chat.send("/parts add the planner")
    await chat.tap("Not sure")
    await chat.send("/days add")
    await chat.send("no gambling")
    await chat.tap("Today")
    await chat.checkin(note="a quiet day")
    [checkin] = await app.repos.checkins.page(1, 0, 1)
    [counter] = await app.repos.counters.for_member(1)
    slip = await app.repos.counters.add_slip(1, counter.id, clock.now().date(), clock.now())
    args = ("add", "09:00", "Europe/Berlin")
    await app.handle(
        Event("test", "mod", Space.group("g1"), command="/schedule", args=args, is_moderator=True)
    )
    clock.set(MON_0700_UTC)
    [prompt] = await Round(app, clock).run()
    post = prompt.private_link.removeprefix("gcheckin-")
    contexts: dict[str, dict[str, str]] = {
        "parts_describe": {"part": "1"},
        "parts_rename": {"part": "1"},
        "parts_talk": {"part": "1"},
        "days_slip": {"slip": str(slip.id)},
        "group_checkin": {"post": post},
        "days_edit": {"counter": str(counter.id)},
        "history_edit": {"checkin": str(checkin.id)},
    }
    context = contexts.get(flow_id, {})
    flow = app.library.catalog().flows[flow_id]
    state = engine.start(flow, clock.now(), context, at=step_id)
    await app.repos.sessions.put(1, state)
    return Member(app, chat, context)


async def kept(app: Unblend) -> dict[str, Any]:
    """Everything stored about the member, but the unfinished flow."""
    data = await export_member(app.repos, 1)
    data.pop("unfinished", None)
    return data


def texts(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies]


@pytest.mark.parametrize(("flow_id", "step_id"), TEXT_STEPS)
async def test_the_crisis_reply_stands_alone_and_the_words_wait(flow_id: str, step_id: str) -> None:
    member = await member_at(flow_id, step_id, reads_crisis=True)
    before = await kept(member.app)
    [reply] = await member.chat.send(NOW_WORDS)
    assert "Are you safe right now?" in reply.text
    state = await member.app.repos.sessions.get(1)
    assert state is not None and (state.flow_id, state.step) == (flow_id, step_id)
    assert state.held == NOW_WORDS, "held with the unfinished flow, encrypted at rest"
    assert await kept(member.app) == before, "nothing is kept yet"

    # "I'm safe for now": only now do the words go where they were meant.
    twin = await member_at(flow_id, step_id, reads_crisis=False)
    meant = texts(await twin.chat.send(NOW_WORDS))
    after = await member.chat.tap(SAFE)
    assert "/crisis brings these numbers back" in after[0].text
    resume = member.app.library.catalog().text("crisis.resume")
    assert [t for t in texts(after[1:]) if t != resume] == meant
    assert await kept(member.app) == await kept(twin.app)
    assert await member.app.repos.sessions.get(1) == await twin.app.repos.sessions.get(1)


MOVES_ON = ["another command", "typing again", "stop", "not safe, then safe"]


@pytest.mark.parametrize("move_on", MOVES_ON)
@pytest.mark.parametrize(("flow_id", "step_id"), TEXT_STEPS)
async def test_moving_on_applies_the_held_words_first(
    flow_id: str, step_id: str, move_on: str
) -> None:
    member = await member_at(flow_id, step_id, reads_crisis=True)
    twin = await member_at(flow_id, step_id, reads_crisis=False)
    await member.chat.send(NOW_WORDS)
    await twin.chat.send(NOW_WORDS)
    if move_on == "another command":
        await member.chat.send("/help")
        assert "Here is what I can do" in member.chat.text()
    elif move_on == "typing again":
        await member.chat.send("okay")
    elif move_on == "stop":
        await member.chat.send("/stop")
        await twin.chat.send("/stop")
    else:
        await member.chat.tap("I'm not safe")
        assert "emergency number" in member.chat.text()
        state = await member.app.repos.sessions.get(1)
        assert state is not None and state.held == NOW_WORDS, "still waiting for them"
        await member.chat.tap(SAFE)
    assert await kept(member.app) == await kept(twin.app)
    mine, theirs = await member.app.repos.sessions.get(1), await twin.app.repos.sessions.get(1)
    assert (mine and (mine.flow_id, mine.step)) == (theirs and (theirs.flow_id, theirs.step))


@pytest.mark.parametrize(("flow_id", "step_id"), TEXT_STEPS)
async def test_skip_or_back_sets_the_held_words_aside(flow_id: str, step_id: str) -> None:
    member = await member_at(flow_id, step_id, reads_crisis=True)
    twin = await member_at(flow_id, step_id, reads_crisis=False)
    await member.chat.send(NOW_WORDS)
    await member.chat.send("/skip")
    await twin.chat.send("/skip")
    assert texts(member.chat.last) == texts(twin.chat.last)
    assert await kept(member.app) == await kept(twin.app)


@pytest.mark.parametrize(("flow_id", "step_id"), PLAN_STEPS)
async def test_a_plan_section_describing_a_hard_moment_gets_a_calm_line(
    flow_id: str, step_id: str
) -> None:
    member = await member_at(flow_id, step_id, reads_crisis=True)
    replies = await member.chat.send(DESCRIBED)
    assert "Are you safe right now?" not in member.chat.text()
    assert replies[0].text.startswith("Thank you for writing this down")
    assert "/crisis" in replies[0].text
    assert DESCRIBED in (await member.app.repos.plans.get(1)).values()


@pytest.mark.parametrize(("flow_id", "step_id"), [s for s in TEXT_STEPS if s not in PLAN_STEPS])
async def test_the_same_words_anywhere_else_get_the_crisis_reply(
    flow_id: str, step_id: str
) -> None:
    member = await member_at(flow_id, step_id, reads_crisis=True)
    if len(DESCRIBED) > member.app.library.catalog().flows[flow_id].step(step_id).max_length:
        pytest.skip("longer than this step takes")
    [reply] = await member.chat.send(DESCRIBED)
    assert "Are you safe right now?" in reply.text


def test_every_flow_with_a_text_step_is_covered() -> None:
    flows = {f for f, _ in TEXT_STEPS}
    assert {"checkin", "safetyplan", "parts_talk", "days_add", "group_checkin"} <= flows
    assert len(TEXT_STEPS) >= 20


def test_console_a_crisis_note_waits_for_are_you_safe(tmp_path: Path) -> None:
    """Sam ends a check-in with a note that is a crisis. The bot answers with the crisis
    reply alone; only after "I'm safe for now" does it thank Sam for checking in."""
    console = ConsoleProcess(tmp_path, "console")
    try:
        console.read_until_prompt()
        console.say("/start")
        console.say("Okay")
        console.say("Yes, keep them")
        console.say("/checkin")
        for answer in ("2", "6", "Not sure", "Lonely"):
            console.say(answer)
        out = console.say("I have the pills ready")
        assert "Are you safe right now?" in out
        assert "Thank you for checking in" not in out
        out = console.say(SAFE)
        assert "/crisis brings these numbers back" in out
        assert out.index("/crisis brings") < out.index("Thank you for checking in")
        out = console.say("/history")
        assert "check-ins: 1" in out
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise


def test_console_safety_work_gets_calm_replies(tmp_path: Path) -> None:
    """Ana writes her warning signs, including the thought that scares her most. The bot
    thanks her and says where /crisis is, and keeps the section. Later she asks /crisis:
    the lines come first, with no "you misunderstood me" to tap."""
    console = ConsoleProcess(tmp_path, "console")
    try:
        console.read_until_prompt()
        console.say("/start")
        console.say("Okay")
        console.say("Yes, keep them")
        console.say("/safetyplan")
        console.say("Write one section")
        console.say("Warning signs")
        out = console.say(DESCRIBED)
        assert "Are you safe right now?" not in out
        assert "real safety work" in out and "/crisis" in out
        assert "Saved “Warning signs”" in out
        out = console.say("/crisis")
        assert out.index("People you can reach") > out.index(DESCRIBED)
        assert "glad you said something" not in out
        assert "You misunderstood me" not in out
        assert "[1] I'm safe for now" in out and "[2] I'm not safe" in out
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise
