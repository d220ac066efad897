"""/history's chart and insight: only the member's own data, and honest about too little."""

from __future__ import annotations

import struct
from datetime import timedelta

from core.app import Unblend
from core.kernel.clock import FakeClock
from tests.chat import Chat

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def history_image(chat: Chat) -> bytes:
    await chat.send("/history")
    images = [r.image for r in chat.last if r.image is not None]
    assert len(images) == 1
    return images[0]


async def test_history_sends_a_valid_png_with_alt_text(chat: Chat, clock: FakeClock) -> None:
    await chat.welcome()
    await chat.checkin(mood=2, urge=8)
    image = await history_image(chat)
    assert png_size(image) == (800, 400)
    assert any("chart of your mood" in r.image_alt for r in chat.last)
    # The text view stays as the fallback, in its own reply.
    assert "Last 30 days" in chat.last[0].text


async def test_chart_holds_only_the_members_own_data(app: Unblend, clock: FakeClock) -> None:
    alice = Chat(app, "alice")
    await alice.welcome()
    await alice.checkin(mood=3, urge=6)
    before = await history_image(alice)
    bob = Chat(app, "bob")
    await bob.welcome()
    for urge in (1, 9, 10):
        await bob.checkin(mood=1, urge=urge)
    # Bob's check-ins change nothing in Alice's picture, to the byte.
    assert await history_image(alice) == before
    assert await history_image(bob) != before


async def test_no_chart_without_checkins(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/history")
    assert all(r.image is None for r in chat.last)


async def test_insight_names_parts_present_at_strong_urges(app: Unblend, clock: FakeClock) -> None:
    chat = Chat(app)
    await chat.welcome()
    await app.repos.parts.add(1, "The Sprinter", "firefighter", clock.now())
    for urge, part in [
        (9, "The Sprinter"),
        (8, "The Sprinter"),
        (7, "A planning or critical part"),
    ]:
        await chat.checkin(mood=2, urge=urge, part=part)
        clock.advance(timedelta(hours=5))
    await chat.checkin(mood=4, urge=2, part="Mostly Self: calm and curious")
    await chat.send("/history")
    assert "(1 to go)" in chat.last[0].text
    await chat.checkin(mood=4, urge=1, part="Not sure")
    await chat.send("/history")
    text = chat.last[0].text
    assert "these parts were around most often: The Sprinter, A planning or critical part." in text
    assert "Mostly Self" not in text.split("around most often")[1]


async def test_insight_when_no_strong_urges(chat: Chat) -> None:
    await chat.welcome()
    for _ in range(5):
        await chat.checkin(mood=4, urge=3)
    await chat.send("/history")
    assert "no check-in had an urge of 7 or more" in chat.last[0].text


async def test_chart_marks_slips_and_grounding_sessions(app: Unblend, clock: FakeClock) -> None:
    chat = Chat(app)
    await chat.welcome()
    await chat.checkin(mood=3, urge=5)
    plain = await history_image(chat)
    counter = await app.repos.counters.add(1, "drinking", clock.now().date(), clock.now())
    await app.repos.counters.add_slip(1, counter.id, clock.now().date(), clock.now())
    with_slip = await history_image(chat)
    assert with_slip != plain
    await chat.send("/ground senses")
    while chat.choices() and "Stop" in chat.labels():
        await chat.tap(chat.labels()[0])
    assert await history_image(chat) != with_slip
