"""Random event sequences from several members: handle() never raises, never leaks."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.app import Unblend
from core.kernel.clock import FakeClock
from core.kernel.model import Event, Space
from core.repos import in_memory_repos
from tests.conftest import detector, library

USERS = ("ana", "ben", "cy")
COMMANDS = [
    "/start",
    "/checkin",
    "/history",
    "/help",
    "/ground",
    "/consent",
    "/stop",
    "/back",
    "/skip",
    "/x",
]
CHOICE_IDS = [
    "nav:stop",
    "nav:back",
    "nav:skip",
    "s:mood:3",
    "s:urge:9",
    "s:urge_now:continue",
    "s:part:unsure",
    "s:keep:yes",
    "s:intro:ok",
    "consent:keep",
    "cmd:ground",
    "safe:yes",
    "s:note:x",
    "weird",
    "",
]


def secret(user: str) -> str:
    return f"secret-of-{user}"


actions = st.tuples(
    st.sampled_from(USERS),
    st.one_of(
        st.sampled_from(COMMANDS).map(lambda c: ("command", c)),
        st.sampled_from(CHOICE_IDS).map(lambda c: ("choice", c)),
        st.sampled_from(
            ["1", "3", "Yes, keep them", "Okay", "Skip", "Keep going", "Not sure", "Tired"]
        ).map(lambda t: ("text", t)),
        st.just(("secret", "")),
        st.text(max_size=60).map(lambda t: ("text", t)),
    ),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, min_size=1, max_size=40))
def test_random_sequences_never_raise_and_never_leak(
    steps: list[tuple[str, tuple[str, str]]],
) -> None:
    asyncio.run(_drive(steps))


async def _drive(steps: list[tuple[str, tuple[str, str]]]) -> None:
    app = Unblend(in_memory_repos(), library(), detector(), FakeClock())
    for user, (kind, value) in steps:
        base = {"platform": "p", "user_id": user, "space": Space.private(user)}
        if kind == "command":
            name, *args = value.split()
            event = Event(**base, command=name, args=tuple(args))  # type: ignore[arg-type]
        elif kind == "choice":
            event = Event(**base, choice=value)  # type: ignore[arg-type]
        elif kind == "secret":
            event = Event(**base, text=secret(user))  # type: ignore[arg-type]
        else:
            event = Event(**base, text=value)  # type: ignore[arg-type]
        replies = await app.handle(event)
        assert replies, f"{kind} {value!r} got no reply"
        shown = "\n".join(r.text + " ".join(c.label for c in r.choices) for r in replies)
        assert "went wrong" not in shown
        for other in USERS:
            if other != user:
                assert secret(other) not in shown
