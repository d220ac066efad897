"""/parts and /parts talk, as a member experiences them; parts storage on SQLite."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.app import Unblend
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import FakeClock
from core.kernel.flows.schema import StepKind, parse_flow
from core.kernel.problems import Problems
from core.parts.feature import MAX_PARTS, NAME_MAX
from core.parts.records import Part
from core.repos import sqlite_repos
from core.storage.keyring import open_encrypted
from tests.chat import Chat
from tests.conftest import CONTENT, detector
from tests.console_process import ConsoleProcess
from tests.test_storage import database_bytes

MANAGER = "A manager: it plans, controls or criticises"
FIREFIGHTER = "A firefighter: it rushes in to put out pain"
YOUNG = "A young or hurt part"
GROUND_INTRO = "Let's ground first"


async def parts_of(app: Unblend, chat: Chat) -> list[Part]:
    member = await app.repos.members.get_or_create(chat.platform, chat.user_id, app.clock.now())
    return await app.repos.parts.list(member.id)


async def add_part(chat: Chat, name: str, role: str = MANAGER) -> None:
    await chat.send(f"/parts add {name}")
    await chat.tap(role)
    assert "is on your map now" in chat.text()


async def open_part(chat: Chat, name: str) -> None:
    await chat.send("/parts")
    await chat.tap(name)


# -- the map ----------------------------------------------------------------------------------


async def test_empty_map_invites_a_first_part(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/parts")
    assert "empty for now" in chat.text()
    assert chat.labels() == ["Add a part", "Talk with a part"]


async def test_add_through_the_flow_then_listed_with_role(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await chat.send("/parts")
    await chat.tap("Add a part")
    assert "What would you like to call it?" in chat.text()
    await chat.send("  The   Planner  ")
    assert "Which sounds most like this part?" in chat.text()
    assert "plans, controls or criticises" in chat.text()
    await chat.tap(MANAGER)
    assert "The Planner is on your map now" in chat.text()
    await chat.send("/parts")
    assert "• The Planner (a manager)" in chat.text()
    assert "The Planner" in chat.labels()
    [part] = await parts_of(app, chat)
    assert (part.name, part.role) == ("The Planner", "manager")


async def test_skipping_the_name_adds_nothing(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await chat.send("/parts add")
    await chat.tap("Skip")
    assert "nothing was added" in chat.text()
    assert await parts_of(app, chat) == []


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("<b>x</b> & <i>", "<b>x</b> & <i>"),
        ("🌊 the wave 🌊", "🌊 the wave 🌊"),
        ("חלק שומר", "חלק שומר"),
        ("the {name} part", "the {name} part"),
        # Issue 12: a direction override would turn around how the name (and what follows it)
        # shows in buttons and previews; it goes, the name stays.
        ("\u202eevil", "evil"),
    ],
)
async def test_markup_emoji_and_rtl_names_are_kept_as_plain_text(
    chat: Chat, app: Unblend, typed: str, name: str
) -> None:
    await chat.welcome()
    await add_part(chat, typed)
    [part] = await parts_of(app, chat)
    assert part.name == name
    await chat.send("/parts")
    assert name in chat.labels()
    assert f"• {name} (a manager)" in chat.text()


async def test_a_500_character_name_is_refused_kindly_and_the_step_stays(
    chat: Chat, app: Unblend
) -> None:
    await chat.welcome()
    await chat.send("/parts")
    await chat.tap("Add a part")
    await chat.send("x" * 500)
    assert f"That name has 500 characters, and a part's name can have up to {NAME_MAX}" in (
        chat.text()
    )
    assert "What would you like to call it?" in chat.text()
    await chat.send("x" * NAME_MAX)
    await chat.tap("Not sure")
    [part] = await parts_of(app, chat)
    assert part.name == "x" * NAME_MAX and part.role == "unsure"


async def test_too_long_name_in_the_shortcut_keeps_the_member_at_the_name_step(
    chat: Chat, app: Unblend
) -> None:
    await chat.welcome()
    await chat.send("/parts add " + "y" * 61)
    assert "That name has 61 characters" in chat.text()
    assert "What would you like to call it?" in chat.text()
    await chat.send("Short one")
    await chat.tap(FIREFIGHTER)
    assert [p.name for p in await parts_of(app, chat)] == ["Short one"]


async def test_duplicate_names_are_refused_without_caring_about_capitals(
    chat: Chat, app: Unblend
) -> None:
    await chat.welcome()
    await add_part(chat, "The Critic")
    await chat.send("/parts add the CRITIC")
    assert "There's already a part called The Critic on your map" in chat.text()
    await chat.send("  THE critic ")
    assert "There's already a part called The Critic" in chat.text()
    await chat.send("The Other Critic")
    await chat.tap(MANAGER)
    assert [p.name for p in await parts_of(app, chat)] == ["The Critic", "The Other Critic"]


async def test_a_full_map_says_so(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    for i in range(MAX_PARTS):
        await add_part(chat, f"part {i}")
    await chat.send("/parts")
    assert "Add a part" not in chat.labels()
    await chat.send("/parts add one more")
    assert f"already holds {MAX_PARTS} parts" in chat.text()
    assert len(await parts_of(app, chat)) == MAX_PARTS


async def test_rename_keeps_its_own_name_free_and_refuses_another_parts(
    chat: Chat, app: Unblend
) -> None:
    await chat.welcome()
    await add_part(chat, "The Critic")
    await add_part(chat, "Busy Bee", FIREFIGHTER)
    await open_part(chat, "The Critic")
    await chat.tap("Rename")
    assert "What would you like to call The Critic instead?" in chat.text()
    await chat.send("busy bee")
    assert "There's already a part called Busy Bee" in chat.text()
    await chat.send("the critic")  # its own name, in other capitals, is fine
    assert "Done: The Critic is now called the critic." in chat.text()
    await open_part(chat, "the critic")
    await chat.tap("Rename")
    await chat.tap("Skip")
    assert "I left the critic as it was" in chat.text()
    assert [p.name for p in await parts_of(app, chat)] == ["the critic", "Busy Bee"]


async def test_describe_edits_one_note_and_shows_it(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "The Critic")
    assert "No notes yet" in chat.text()
    await chat.tap("Describe")
    await chat.tap("What it says")
    await chat.send("You could do better.")
    assert "I've updated The Critic" in chat.text()
    assert "What it says: You could do better." in chat.text()
    await chat.tap("Describe")
    await chat.tap("Where it shows up in my body")
    await chat.send("x" * 401)
    assert "up to 400 characters" in chat.text()
    await chat.send("tight jaw")
    await chat.tap("Describe")
    await chat.tap("What it protects")
    await chat.tap("Skip")
    assert "I left The Critic as it was" in chat.text()
    [part] = await parts_of(app, chat)
    assert (part.says, part.body, part.protects) == ("You could do better.", "tight jaw", "")


async def test_change_role(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "Scroller", "Not sure")
    await chat.tap("Change role")
    assert "Scroller is on your map as: not sure yet." in chat.text()
    await chat.tap(FIREFIGHTER)
    assert "Role: a firefighter, a part that rushes in to put out pain" in chat.text()
    [part] = await parts_of(app, chat)
    assert part.role == "firefighter"


async def test_remove_asks_first_and_keep_it_keeps_it(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "The Critic")
    await chat.tap("Remove")
    assert "Remove The Critic from your map?" in chat.text()
    assert "can't be undone" in chat.text()
    await chat.tap("Keep it")
    assert len(await parts_of(app, chat)) == 1
    await chat.tap("Remove")
    confirm = next(c for c in chat.choices() if c.label == "Yes, remove it")
    await chat.choose(confirm.id)
    assert "The Critic is off your map now" in chat.text()
    assert await parts_of(app, chat) == []
    await chat.choose(confirm.id)  # a second tap on an old button
    assert "couldn't find that part" in chat.text()


@pytest.mark.parametrize(
    "choice", ["parts:open:999", "parts:open:abc", "parts:open:", "parts:remove_yes:-1"]
)
async def test_unknown_part_ids_get_a_kind_message(chat: Chat, choice: str) -> None:
    await chat.welcome()
    await chat.choose(choice)
    assert "couldn't find that part on your map" in chat.text()
    assert "Add a part" in chat.labels()


async def test_unknown_parts_action_and_unknown_name(chat: Chat) -> None:
    await chat.welcome()
    await chat.choose("parts:explode:1")
    assert "earlier step" in chat.text()
    await chat.send("/parts Nobody")
    assert "couldn't find a part with that name" in chat.text()


async def test_open_a_part_by_name(chat: Chat) -> None:
    await chat.welcome()
    await add_part(chat, "The Critic")
    await chat.send("/parts the critic")
    assert "Role: a manager, a part that plans" in chat.text()
    assert "Talk with it" in chat.labels()


async def test_named_parts_come_first_in_checkin(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "The Critic")
    await add_part(chat, "Busy Bee", FIREFIGHTER)
    await chat.send("/checkin")
    await chat.tap("3")
    await chat.tap("4")
    assert chat.labels()[:3] == ["The Critic", "Busy Bee", "A planning or critical part"]
    await chat.tap("Busy Bee")
    assert "body or a need" in chat.text()


async def test_one_member_never_sees_or_changes_anothers_parts(app: Unblend) -> None:
    alice, bob = Chat(app, "alice"), Chat(app, "bob")
    await alice.welcome()
    await bob.welcome()
    await add_part(alice, "Alice's Guard")
    [part] = await parts_of(app, alice)
    await bob.send("/parts")
    assert "Alice" not in bob.text() and "empty for now" in bob.text()
    for action in ("open", "talk", "rename", "describe", "remove", "remove_yes"):
        await bob.choose(f"parts:{action}:{part.id}")
        assert "couldn't find that part" in bob.text()
        assert "Alice" not in bob.text()
    await bob.send("/parts add Alice's Guard")  # the same name is free for bob
    await bob.tap(MANAGER)
    await bob.send("/checkin")
    await bob.tap("3")
    await bob.tap("4")
    assert bob.labels().count("Alice's Guard") == 1
    assert await parts_of(app, alice) == [part]
    assert not await app.repos.parts.remove(99, part.id)
    assert await app.repos.parts.rename(99, part.id, "x") is None


# -- /parts talk -------------------------------------------------------------------------------


async def start_talk(chat: Chat, name: str, distress: int = 3) -> None:
    await chat.send("/parts talk")
    assert "not therapy" in chat.text()
    await chat.tap(name)
    assert f"Let's spend a little time with {name}" in chat.text()
    assert "how much distress" in chat.text()
    await chat.tap(str(distress))


async def talk_to_feel(chat: Chat) -> None:
    """From `find` to `feel`, answering everything."""
    assert "Where do you sense it" in chat.text()
    await chat.send("in my shoulders")
    await chat.tap("Continue")
    await chat.send("a tired guard, about forty")
    await chat.send("keep going, don't stop")
    await chat.tap("Busy protecting: watchful, on guard, working hard")
    assert "how do you feel toward this part" in chat.text()


async def befriend(chat: Chat) -> None:
    assert "what is its job?" in chat.text()
    await chat.send("keeps me from being caught off guard")
    await chat.send("since school")
    assert "thank it" in chat.text()
    await chat.tap("Continue")
    assert "afraid would happen if it stopped" in chat.text()
    await chat.send("that everything would fall apart")


async def test_talk_with_a_protector_and_save_what_was_learned(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "The Guard")
    await chat.tap("Describe")
    await chat.tap("What it says")
    await chat.send("stay alert")
    await start_talk(chat, "The Guard", distress=6)
    await talk_to_feel(chat)
    await chat.tap("Curious about it")
    await befriend(chat)
    assert "how much distress are you feeling now?" in chat.text()
    await chat.tap("4")
    assert "Nothing is kept unless you choose it" in chat.text()
    await chat.tap("Save to its notes")
    text = chat.text()
    assert "Your distress was 6 at the start and is 4 now." in text
    assert "I've added what you learned to the notes for The Guard" in text
    assert "Ground now" in chat.labels()
    [part] = await parts_of(app, chat)
    assert part.body == "in my shoulders"
    assert part.says == "stay alert\nkeep going, don't stop"
    assert part.protects == (
        "Its job: keeps me from being caught off guard\n"
        "Afraid that if it stopped: that everything would fall apart"
    )
    assert (
        part.notes == "Image or age: a tired guard, about forty\nDoing this job for: since school"
    )


async def test_not_saving_is_the_default(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "The Guard")
    await start_talk(chat, "The Guard")
    await talk_to_feel(chat)
    await chat.tap("Warm or open toward it")
    await befriend(chat)
    await chat.tap("Skip")  # no distress number after
    await chat.tap("Skip")  # no choice about saving
    assert "I haven't kept anything" in chat.text()
    assert "distress was" not in chat.text()
    [part] = await parts_of(app, chat)
    assert (part.body, part.says, part.protects, part.notes) == ("", "", "", "")


@pytest.mark.parametrize("feeling", ["Annoyed or critical of it", "Afraid of it", "Not sure"])
async def test_not_curious_or_warm_leads_to_unblending(chat: Chat, feeling: str) -> None:
    await chat.welcome()
    await add_part(chat, "The Guard")
    await start_talk(chat, "The Guard")
    await talk_to_feel(chat)
    await chat.tap(feeling)
    assert "another part of you has stepped in" in chat.text()
    assert "ask it to give you a little space" in chat.text()
    assert "what is its job?" not in chat.text()
    await chat.tap("It gave me a little space")
    await befriend(chat)


async def test_when_the_other_part_is_not_ready_the_talk_ends_gently(chat: Chat) -> None:
    await chat.welcome()
    await add_part(chat, "The Guard")
    await start_talk(chat, "The Guard")
    await talk_to_feel(chat)
    await chat.tap("I want it gone")
    await chat.tap("It isn't ready")
    assert "Parts have good reasons for holding on" in chat.text()
    await chat.tap("Continue")
    assert "how much distress are you feeling now?" in chat.text()


async def ground_first_reply(app: Unblend) -> str:
    other = Chat(app, "someone-else")
    await other.welcome()
    await other.send("/ground")
    return other.last[0].text


async def test_grounding_can_come_first_at_the_unblending_step(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "The Guard")
    await start_talk(chat, "The Guard")
    await talk_to_feel(chat)
    await chat.tap("I want it gone")
    await chat.tap("I'd like to ground first")
    assert GROUND_INTRO in chat.text()
    assert await ground_first_reply(app) in chat.text()


@pytest.mark.parametrize(
    ("distress", "offered"), [(6, False), (7, True), (10, True)], ids=["6", "7", "10"]
)
async def test_high_distress_offers_grounding_before_going_on(
    chat: Chat, distress: int, offered: bool
) -> None:
    await chat.welcome()
    await add_part(chat, "The Guard")
    await start_talk(chat, "The Guard", distress=distress)
    assert ("Ground now" in chat.labels()) is offered
    assert ("Where do you sense it" in chat.text()) is not offered


async def test_distress_offer_go_on_ground_or_stop(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "The Guard")
    await start_talk(chat, "The Guard", distress=9)
    assert chat.labels()[:3] == ["Ground now", "Go on anyway", "Stop for now"]
    await chat.tap("Go on anyway")
    assert "Where do you sense it" in chat.text()
    await start_talk(chat, "The Guard", distress=9)
    await chat.tap("Stop for now")
    assert "we'll leave it there for today" in chat.text()
    await start_talk(chat, "The Guard", distress=8)
    await chat.tap("Ground now")
    assert GROUND_INTRO in chat.text()
    assert await ground_first_reply(app) in chat.text()


async def test_a_part_named_as_young_or_hurt_is_never_explored(chat: Chat) -> None:
    await chat.welcome()
    await add_part(chat, "Little One", YOUNG)
    await add_part(chat, "The Guard")
    await chat.send("/parts talk")
    await chat.tap("Little One")
    text = chat.text()
    assert "You've described Little One as a young or hurt part." in text
    assert "Thank you for noticing it" in text and "therapist" in text
    assert "distress" not in text and "Where do you sense it" not in text
    assert chat.labels()[:3] == ["Ground now", "Talk with a protector instead", "Stop for now"]
    await chat.tap("Talk with a protector instead")
    assert "The Guard" in chat.labels()
    assert "Little One" not in chat.labels()


async def test_a_part_said_to_be_young_goes_to_the_gentle_step(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/parts talk")
    await chat.tap("A part I haven't named yet")
    await chat.tap("It feels young or hurt")
    assert "therapist" in chat.text()
    await chat.tap("Stop for now")
    assert "we'll leave it there for today" in chat.text()
    # Later in a talk, noticing that a part seems young also stops there.
    await chat.send("/parts talk")
    await chat.tap("A part I haven't named yet")
    await chat.tap("It rushes in to put out pain")
    await chat.tap("2")
    await chat.tap("Skip")
    await chat.tap("Continue")
    await chat.tap("Skip")
    await chat.tap("Skip")
    await chat.tap("Young, small or hurt")
    assert "therapist" in chat.text()
    assert "how do you feel toward" not in chat.text()


async def test_stop_and_skip_work_at_every_step_of_a_talk(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/parts talk")
    await chat.tap("A part I haven't named yet")
    seen = 0
    while "Stop" in chat.labels():
        seen += 1
        labels = chat.labels()
        await chat.tap("Skip" if "Skip" in labels else "Continue")
        if "distress" in chat.text() and "Go on anyway" in chat.labels():
            await chat.tap("Go on anyway")
    assert seen >= 12
    assert "I haven't kept anything" in chat.text()
    await chat.send("/parts talk")
    await chat.tap("A part I haven't named yet")
    await chat.tap("Stop")
    assert "stopped" in chat.text()


async def test_an_unnamed_part_can_join_the_map_after_a_talk(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "The Critic")
    await chat.send("/parts talk")
    await chat.tap("A part I haven't named yet")
    await chat.tap("It rushes in to put out pain")
    await chat.tap("2")
    await talk_to_feel(chat)
    await chat.tap("Curious about it")
    await befriend(chat)
    await chat.tap("1")
    await chat.tap("Add it to my map")
    await chat.send("the CRITIC")
    assert "There's already a part called The Critic" in chat.text()
    await chat.send("The Rusher")
    assert "The Rusher is on your map now, with what you learned" in chat.text()
    assert "Your distress was 2 at the start and is 1 now." in chat.text()
    rusher = (await parts_of(app, chat))[1]
    assert (rusher.name, rusher.role, rusher.body) == (
        "The Rusher",
        "firefighter",
        "in my shoulders",
    )


async def test_a_full_note_is_left_as_it_was_and_the_member_is_told(
    chat: Chat, app: Unblend
) -> None:
    await chat.welcome()
    await add_part(chat, "The Guard")
    await chat.tap("Describe")
    await chat.tap("Where it shows up in my body")
    await chat.send("b" * 390)
    await start_talk(chat, "The Guard")
    await talk_to_feel(chat)
    await chat.tap("Curious about it")
    await befriend(chat)
    await chat.tap("2")
    await chat.tap("Save to its notes")
    assert "already full, so I left them as they were: Where it shows up in the body" in (
        chat.text()
    )
    [part] = await parts_of(app, chat)
    assert part.body == "b" * 390
    assert part.says == "keep going, don't stop"


async def test_a_part_removed_during_a_talk_is_not_saved_to(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await add_part(chat, "The Guard")
    [part] = await parts_of(app, chat)
    await start_talk(chat, "The Guard")
    await app.repos.parts.remove(part.member_id, part.id)
    await talk_to_feel(chat)
    await chat.tap("Curious about it")
    await befriend(chat)
    await chat.tap("2")
    await chat.tap("Save to its notes")
    assert "couldn't find that part on your map any more, so nothing was saved" in chat.text()


# -- content and the validator mechanism --------------------------------------------------------


def test_every_validator_named_in_content_exists(app: Unblend) -> None:
    catalog = ContentLibrary(CONTENT).catalog()
    named = {s.validate for f in catalog.flows.values() for s in f.steps.values() if s.validate}
    assert "part_name" in named
    assert named <= set(app.registry.validators)


def test_validate_is_only_for_text_steps() -> None:
    problems = Problems()
    flow = {
        "id": "x",
        "title": "x",
        "start": "a",
        "steps": {
            "a": {"kind": "info", "text": "hi", "validate": "part_name", "next": "b"},
            "b": {"kind": "text", "text": "name?", "validate": "no spaces!"},
        },
    }
    assert parse_flow(flow, "x.toml", problems) is None
    assert any("steps.a.validate: only text steps" in line for line in problems.lines())
    assert any("steps.b.validate: must be a validator name" in line for line in problems.lines())
    ok = Problems()
    flow["steps"] = {"a": {"kind": "text", "text": "name?", "validate": "part_name"}}
    parsed = parse_flow(flow, "x.toml", ok)
    assert parsed is not None and parsed.step("a").kind is StepKind.TEXT
    assert parsed.step("a").validate == "part_name"


def test_the_distress_threshold_lives_in_content() -> None:
    talk = ContentLibrary(CONTENT).catalog().flows["parts_talk"]
    [branch] = talk.step("before").branches
    assert branch.goto == "steady" and isinstance(branch.when[0].value, int)


# -- SQLite ------------------------------------------------------------------------------------


async def test_sqlite_parts_are_encrypted_and_the_cache_stays_true(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "unblend.sqlite"
    db, cipher = await open_encrypted(path, {})
    repos = sqlite_repos(db, cipher)
    app = Unblend(repos, ContentLibrary(CONTENT), detector(), clock)
    alice, bob = Chat(app, "alice"), Chat(app, "bob")
    await alice.welcome()
    await bob.welcome()
    await add_part(alice, "Secret Keeper")
    await add_part(alice, "Night Owl", FIREFIGHTER)
    await add_part(bob, "Bob's Planner")
    await open_part(alice, "Secret Keeper")
    await alice.tap("Describe")
    await alice.tap("What it protects")
    await alice.send("hidden tenderness")
    await open_part(alice, "Night Owl")
    await alice.tap("Rename")
    await alice.send("Late Owl")
    await open_part(alice, "Secret Keeper")
    await alice.tap("Change role")
    await alice.tap(YOUNG)
    [bobs] = await parts_of(app, bob)
    alice_id = (await parts_of(app, alice))[0].member_id
    assert await repos.parts.update(replace(bobs, member_id=alice_id, says="x")) is None
    assert await repos.parts.rename(alice_id, bobs.id, "mine now") is None
    assert not await repos.parts.remove(alice_id, bobs.id)
    assert await parts_of(app, bob) == [bobs]
    before = await parts_of(app, alice)
    assert [(p.name, p.role, p.protects) for p in before] == [
        ("Secret Keeper", "exile", "hidden tenderness"),
        ("Late Owl", "firefighter", ""),
    ]
    await alice.send("/parts")
    await alice.tap("Late Owl")
    await alice.tap("Remove")
    await alice.tap("Yes, remove it")
    after_remove = await parts_of(app, alice)
    assert [p.name for p in after_remove] == ["Secret Keeper"]
    await db.close()
    raw = database_bytes(tmp_path)
    for secret in (b"Secret Keeper", b"hidden tenderness", b"Late Owl", b"Planner"):
        assert secret not in raw

    # A fresh process reads from disk exactly what the cache said.
    db2, cipher2 = await open_encrypted(path, {})
    app2 = Unblend(sqlite_repos(db2, cipher2), ContentLibrary(CONTENT), detector(), clock)
    assert await parts_of(app2, Chat(app2, "alice")) == after_remove
    assert [p.name for p in await parts_of(app2, Chat(app2, "bob"))] == ["Bob's Planner"]
    await db2.close()


# -- the real console --------------------------------------------------------------------------


def test_parts_talk_end_to_end_through_the_console(tmp_path: Path) -> None:
    console = ConsoleProcess(tmp_path, "console")
    try:
        console.read_until_prompt()
        console.say("/start")
        console.say("Okay")
        console.say("Yes, keep them")
        assert "Which sounds most like this part?" in console.say("/parts add The Critic")
        assert "The Critic is on your map now" in console.say(MANAGER)
        menu = console.say("/parts talk")
        assert "not therapy" in menu and "] The Critic" in menu
        assert "how much distress" in console.say("The Critic")
        assert "Where do you sense it" in console.say("3")
        assert "turn your attention toward it" in console.say("a knot in my stomach")
        assert "an image" in console.say("Continue")
        assert "Does it have words" in console.say("skip")
        assert "how does it seem" in console.say("you're not ready yet")
        assert "how do you feel toward" in console.say(
            "Busy protecting: watchful, on guard, working hard"
        )
        assert "a little space" in console.say("Annoyed or critical of it")
        assert "what is its job?" in console.say("It gave me a little space")
        assert "How long" in console.say("it keeps me from getting hurt")
        assert "thank it" in console.say("years")
        assert "afraid would happen" in console.say("Continue")
        assert "distress are you feeling now" in console.say("that I'd be laughed at")
        assert "keep what you learned" in console.say("2")
        done = console.say("Save to its notes")
        assert "Your distress was 3 at the start and is 2 now." in done
        assert "I've added what you learned to the notes for The Critic" in done
        detail = console.say("/parts the critic")
        assert "Where it shows up in the body: a knot in my stomach" in detail
        assert "What it says: you're not ready yet" in detail
        assert "Afraid that if it stopped: that I'd be laughed at" in detail
        code, _ = console.close()
    except BaseException:
        console.kill()
        raise
    assert code == 0
    raw = database_bytes(tmp_path / "data")
    assert raw and b"knot in my stomach" not in raw and b"The Critic" not in raw
