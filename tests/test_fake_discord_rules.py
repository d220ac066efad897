"""The fake Discord keeps Discord's interaction rules, so an adapter test can catch a break.

Each rule is tried here with plain HTTP calls, as an adapter that got it wrong would make them:
a deferred answer's placeholder is taken over by the first follow-up (its visibility wins); an
interaction never answered (or deferred and left "thinking") is an error; duplicate
custom_ids, oversized forms and autocomplete answers are refused with 400, as Discord does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fake_discord import EPHEMERAL, DcUser, FakeDiscord, Pending

ANA = DcUser(10, "Ana")
NO_MENTIONS: dict[str, list[str]] = {"parse": []}


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    # The fake needs a bot on its gateway to dispatch interactions to.
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.gateway_url)
        await ws.receive_json()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": server.token, "intents": 1}})
        await ws.receive_json()  # READY
        await ws.receive_json()  # GUILD_CREATE
        yield server
        await ws.close()
    await server.close()  # each test asserts what it expects: refusals here are the point


async def call(fake: FakeDiscord, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, fake.api_base_url + path, json=body) as response,
    ):
        data = await response.json() if response.status != 204 else None
        return response.status, data


async def command(fake: FakeDiscord, guild: bool = True) -> Pending:
    return await fake.interact(ANA, 2, {"id": "1", "name": "checkin", "type": 1}, guild)


def callback(pending: Pending) -> str:
    return f"/interactions/{pending.id}/{pending.token}/callback"


def followup(pending: Pending, rest: str = "") -> str:
    return f"/webhooks/1/{pending.token}{rest}"


def buttons(*ids: str) -> list[dict[str, Any]]:
    row = [{"type": 2, "style": 1, "label": "Pick", "custom_id": i} for i in ids]
    return [{"type": 1, "components": row}]


async def test_the_first_follow_up_takes_over_the_placeholder_with_its_visibility(
    fake: FakeDiscord,
) -> None:
    pending = await command(fake)
    deferred, _ = await call(fake, "POST", callback(pending), {"type": 5, "data": {"flags": 64}})
    assert deferred == 204
    assert fake.unanswered() == [f"interaction {pending.id} was deferred and never answered"]
    body = {"content": "For everyone?", "allowed_mentions": NO_MENTIONS, "flags": 0}
    status, first = await call(fake, "POST", followup(pending), body)
    assert status == 200 and int(first["id"]) == pending.original
    assert first["flags"] & EPHEMERAL, "the placeholder's flags win, not the follow-up's"
    assert fake.unanswered() == []
    status, second = await call(fake, "POST", followup(pending), body)
    assert int(second["id"]) != pending.original and not second["flags"] & EPHEMERAL


async def test_a_placeholder_can_be_removed_and_then_a_follow_up_is_its_own_message(
    fake: FakeDiscord,
) -> None:
    pending = await command(fake)
    await call(fake, "POST", callback(pending), {"type": 5, "data": {"flags": 64}})
    assert (await call(fake, "DELETE", followup(pending, "/messages/@original")))[0] == 204
    assert fake.unanswered() == [], "removed: nobody sees a failure"
    body = {"content": "For everyone", "allowed_mentions": NO_MENTIONS}
    status, sent = await call(fake, "POST", followup(pending), body)
    assert status == 200 and not sent["flags"] & EPHEMERAL


async def test_an_interaction_never_answered_is_recorded(fake: FakeDiscord) -> None:
    pending = await command(fake)
    assert fake.unanswered() == [f"interaction {pending.id} was never answered"]
    await fake.close()
    assert f"interaction {pending.id} was never answered" in fake.violations


async def test_duplicate_custom_ids_are_refused_and_leave_the_interaction_open(
    fake: FakeDiscord,
) -> None:
    pending = await command(fake)
    data = {"content": "Pick", "allowed_mentions": NO_MENTIONS, "components": buttons("a", "a")}
    status, refused = await call(fake, "POST", callback(pending), {"type": 4, "data": data})
    assert status == 400 and refused["code"] == 50035
    assert "DUPLICATED" in fake.rejections[-1][2]
    assert fake.unanswered() != [], "a refused answer is no answer"
    data["components"] = buttons("a", "b")
    assert (await call(fake, "POST", callback(pending), {"type": 4, "data": data}))[0] == 204


@pytest.mark.parametrize(
    "components",
    [
        buttons(*[f"b{i}" for i in range(6)]),  # 6 in a row
        buttons("a") * 6,  # 6 rows (and the same id again)
        [{"type": 1, "components": [{"type": 3, "custom_id": "s", "options": []}]}],
        buttons("x" * 101),
    ],
)
async def test_components_beyond_discords_limits_are_refused(
    fake: FakeDiscord, components: list[dict[str, Any]]
) -> None:
    pending = await command(fake)
    data = {"content": "Pick", "allowed_mentions": NO_MENTIONS, "components": components}
    status, _ = await call(fake, "POST", callback(pending), {"type": 4, "data": data})
    assert status == 400 and fake.rejections[-1][1] == 400


def text_input(label: str = "Your words", max_length: int = 4000, n: int = 0) -> dict[str, Any]:
    field = {"type": 4, "custom_id": f"w{n}", "style": 2, "label": label, "max_length": max_length}
    return {"type": 1, "components": [field]}


@pytest.mark.parametrize(
    ("title", "inputs", "ok"),
    [
        ("In your own words", [text_input()], True),
        ("x" * 46, [text_input()], False),
        ("Form", [text_input(label="y" * 46)], False),
        ("Form", [text_input(max_length=4001)], False),
        ("Form", [text_input(n=i) for i in range(6)], False),
        ("Form", [], False),
    ],
)
async def test_a_form_beyond_discords_limits_is_refused(
    fake: FakeDiscord, title: str, inputs: list[dict[str, Any]], ok: bool
) -> None:
    pending = await command(fake)
    modal = {"custom_id": "~text", "title": title, "components": inputs}
    status, _ = await call(fake, "POST", callback(pending), {"type": 9, "data": modal})
    assert (status == 204) is ok
    assert (pending.modal is not None) is ok


@pytest.mark.parametrize(
    ("choices", "ok"),
    [
        ([{"name": "Berlin", "value": "Europe/Berlin"}] * 25, True),
        ([{"name": "Berlin", "value": "Europe/Berlin"}] * 26, False),
        ([{"name": "n" * 101, "value": "v"}], False),
        ([{"name": "n", "value": "v" * 101}], False),
        ([{"name": "", "value": "v"}], False),
    ],
)
async def test_autocomplete_beyond_discords_limits_is_refused(
    fake: FakeDiscord, choices: list[dict[str, Any]], ok: bool
) -> None:
    pending = await fake.interact(ANA, 4, {"id": "1", "name": "schedule", "type": 1}, True)
    body = {"type": 8, "data": {"choices": choices}}
    status, _ = await call(fake, "POST", callback(pending), body)
    assert (status == 204) is ok
