"""/ground: the menu, each exercise's pacing on a fake clock, the ending, cold water, the log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bots.bootstrap import build_runtime
from core.app import Unblend
from core.grounding.store import InMemoryPracticeLogRepo
from core.kernel.clock import FakeClock
from core.kernel.config import ConfigError, load_config
from core.kernel.flows.schema import Flow, StepKind
from core.kernel.outbound import RecordingOutbound
from core.kernel.settings import Settings
from core.repos import in_memory_repos, sqlite_repos
from core.storage.keyring import open_encrypted
from tests.chat import Chat
from tests.conftest import detector, library
from tests.console_process import ConsoleProcess

MEMBER = 1  # the first member of a fresh in-memory store

PACED = ("paced", "box", "sigh", "sober", "surf", "orient")
LABELS = {
    "senses": "5-4-3-2-1 senses",
    "paced": "Paced breathing",
    "box": "Box breathing",
    "sigh": "Cyclic sighing",
    "sober": "SOBER breathing space",
    "surf": "Urge surfing",
    "orient": "Feet and hands",
}


@pytest.fixture
def rec(app: Unblend) -> RecordingOutbound:
    recording = RecordingOutbound()
    app.outbound.register("test", recording)
    return recording


def cold_app(clock: FakeClock) -> Unblend:
    settings = Settings(default_country="GB", cold_water=True)
    return Unblend(in_memory_repos(), library(), detector(), clock, settings)


def flow(app: Unblend, exercise: str) -> Flow:
    return app.library.catalog().flows[f"ground_{exercise}"]


def log(app: Unblend) -> InMemoryPracticeLogRepo:
    repo = app.repos.practices
    assert isinstance(repo, InMemoryPracticeLogRepo)
    return repo


async def step_now(app: Unblend) -> str | None:
    state = await app.repos.sessions.get(MEMBER)
    return None if state is None else state.step


def sent_texts(rec: RecordingOutbound) -> list[str]:
    texts = [r.text for _, _, replies in rec.sent for r in replies]
    rec.sent.clear()
    return texts


async def let_timed_steps_run(
    chat: Chat, clock: FakeClock, rec: RecordingOutbound, exercise: str
) -> list[tuple[str, int]]:
    """Lets the clock run through consecutive timed steps, checking each moves on exactly on
    time (not a second before) and says the next step; returns (step, seconds) as walked.
    What the pacer sent becomes what the member sees, so they can tap its buttons."""
    app = chat.app
    walked: list[tuple[str, int]] = []
    the_flow = flow(app, exercise)
    while (current := await step_now(app)) is not None:
        step = the_flow.step(current)
        if step.kind is not StepKind.TIMED:
            break
        clock.advance(timedelta(seconds=step.seconds - 1))
        assert await app.run_due() == 0, f"{exercise}.{current} moved on early"
        assert rec.sent == []
        clock.advance(timedelta(seconds=1))
        assert await app.run_due() == 1
        [(platform, user, [reply])] = rec.sent
        assert (platform, user) == ("test", "u1")
        nxt = await step_now(app)
        assert nxt is not None
        assert reply.text.startswith(the_flow.step(nxt).text)
        chat.last = [reply]
        rec.sent.clear()
        walked.append((current, step.seconds))
    return walked


async def start(chat: Chat, exercise: str, before: int | None = 8) -> None:
    await chat.send("/ground")
    await chat.tap(LABELS[exercise])
    if before is None:
        await chat.tap("Skip")
    else:
        await chat.tap(str(before))


# -- the menu -----------------------------------------------------------------------------


async def test_menu_says_what_each_exercise_is_and_how_long_it_takes(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/ground")
    text = chat.text()
    assert chat.labels() == list(LABELS.values())
    for label in LABELS.values():
        line = next(x for x in text.splitlines() if x.startswith(f"• {label} "))
        assert "minute" in line, line
    assert "/ground surf" in text
    # The breath is not neutral for everyone: said gently, with the alternative named.
    assert "Breathing exercises don't suit everyone" in text
    assert '"Feet and hands" uses no breathing' in text
    assert "Cold water" not in text


async def test_ground_with_an_id_starts_that_exercise_directly(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/ground BOX")
    assert chat.text().startswith("Box breathing: in for 4, hold for 4")
    assert "how strong is any distress or urge" in chat.text()
    assert "Skip" in chat.labels()
    await chat.send("/ground ground_sober")
    assert "SOBER breathing space" in chat.text()
    assert "set your unfinished box breathing aside" in chat.text()


async def test_ground_before_the_welcome_shows_the_menu_right_after_it(chat: Chat) -> None:
    await chat.send("/ground")
    assert "Okay" in chat.labels()
    await chat.tap("Okay")
    await chat.tap("No, don't keep them")
    assert "Feet and hands" in chat.labels()


@pytest.mark.parametrize(
    ("typed", "expect"),
    [
        ("/ground nope", 'I don\'t have an exercise called "nope"'),
        ("/ground <b>x</b>&<i>", "I didn't recognise that exercise"),
        ("/ground " + "x" * 500, "I didn't recognise that exercise"),
        ("/ground 🌊", "I didn't recognise that exercise"),
        ("/ground \u202eevil", "I didn't recognise that exercise"),
        ("/ground 3", 'I don\'t have an exercise called "3"'),
    ],
)
async def test_unknown_exercises_get_a_kind_message_and_the_menu(
    chat: Chat, typed: str, expect: str
) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.send(typed)
    text = chat.text()
    assert expect in text
    assert "<b>" not in text and "x" * 30 not in text
    assert "Paced breathing" in chat.labels()
    # Nothing was lost: the check-in is still where it was.
    await chat.send("4")
    assert "How strong is any urge" in chat.text()


async def test_an_unknown_menu_button_is_handled(chat: Chat) -> None:
    await chat.welcome()
    await chat.choose("ground:../../etc")
    assert "didn't recognise that exercise" in chat.text()
    await chat.choose("ground:menu")
    assert "Box breathing" in chat.labels()


# -- pacing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise", PACED)
async def test_paced_steps_arrive_on_time_and_not_before(
    chat: Chat, app: Unblend, clock: FakeClock, rec: RecordingOutbound, exercise: str
) -> None:
    await chat.welcome()
    await start(chat, exercise)
    first = chat.last[-1]
    assert first.replace_key == f"pace:ground_{exercise}"
    assert "Continue" in chat.labels() and "Stop" in chat.labels()
    walked = await let_timed_steps_run(chat, clock, rec, exercise)
    assert len(walked) >= 4
    if exercise == "surf":
        assert await step_now(app) == "middle"
    else:
        assert await step_now(app) == "after"
        # The member's turn now: nothing more arrives however long they take.
        clock.advance(timedelta(minutes=30))
        assert await app.run_due() == 0


def total(walked: list[tuple[str, int]]) -> int:
    return sum(seconds for _, seconds in walked)


async def test_the_timings_follow_each_practice(
    chat: Chat, app: Unblend, clock: FakeClock, rec: RecordingOutbound
) -> None:
    await chat.welcome()
    timings = {}
    for exercise in ("paced", "box", "sigh", "sober", "orient"):
        await start(chat, exercise)
        timings[exercise] = await let_timed_steps_run(chat, clock, rec, exercise)
        await chat.tap("Stop")
    paced = timings["paced"]
    assert all(s == 4 for step, s in paced if step.startswith("in"))
    assert all(s == 6 for step, s in paced if step.startswith("out"))
    assert 60 <= total(paced) <= 120
    guided_box = [s for step, s in timings["box"] if step != "own"]
    assert guided_box == [4] * 12
    assert 90 <= total(timings["box"]) <= 150
    assert 270 <= total(timings["sigh"]) <= 330
    assert timings["sober"] == [
        ("stop", 10),
        ("observe", 60),
        ("breathe", 60),
        ("expand", 45),
        ("respond", 20),
    ]
    assert 120 <= total(timings["orient"]) <= 180


async def test_feet_and_hands_never_mentions_the_breath(app: Unblend) -> None:
    the_flow = flow(app, "orient")
    for step in the_flow.steps.values():
        if step.id != "before":
            assert "breath" not in step.text.casefold(), step.id


async def test_senses_is_self_paced(
    chat: Chat, app: Unblend, clock: FakeClock, rec: RecordingOutbound
) -> None:
    await chat.welcome()
    await start(chat, "senses", before=6)
    assert "5 things you can see" in chat.text()
    clock.advance(timedelta(minutes=20))
    assert await app.run_due() == 0
    for _ in range(4):
        await chat.tap("Continue")
    assert "1 thing you can taste" in chat.text()
    await chat.tap("Done")
    await chat.tap("4")
    assert "from 6 to 4" in chat.text()


async def test_continue_goes_sooner_and_the_next_step_gets_its_full_time(
    chat: Chat, app: Unblend, clock: FakeClock, rec: RecordingOutbound
) -> None:
    await chat.welcome()
    await start(chat, "paced")
    clock.advance(timedelta(seconds=1))
    await chat.tap("Continue")
    assert chat.text().startswith("Round 1 of 3. And breathe out")
    # The old due time of the step left early means nothing now.
    clock.advance(timedelta(seconds=3))
    assert await app.run_due() == 0
    clock.advance(timedelta(seconds=2))
    assert await app.run_due() == 0
    clock.advance(timedelta(seconds=1))
    assert await app.run_due() == 1
    assert sent_texts(rec) == ["Round 2 of 3. Breathe in… 1, 2, 3, 4"]


async def test_a_continue_from_a_step_that_already_moved_on_does_not_skip_ahead(
    chat: Chat, app: Unblend, clock: FakeClock, rec: RecordingOutbound
) -> None:
    await chat.welcome()
    await start(chat, "box")
    old_continue = chat.choices()[0].id
    clock.advance(timedelta(seconds=4))
    await app.run_due()
    assert await step_now(app) == "hold1"
    await chat.choose(old_continue)
    assert "earlier step" in chat.text()
    assert "Hold gently" in chat.text()
    assert await step_now(app) == "hold1"


async def test_urge_surfing_asks_in_the_middle_and_can_be_extended(
    chat: Chat, app: Unblend, clock: FakeClock, rec: RecordingOutbound
) -> None:
    await chat.welcome()
    await start(chat, "surf", before=9)
    first = await let_timed_steps_run(chat, clock, rec, "surf")
    assert all(60 <= s <= 90 for _, s in first)
    # The middle rating waits for the member, as long as they need.
    assert await step_now(app) == "middle"
    clock.advance(timedelta(minutes=5))
    assert await app.run_due() == 0
    await chat.tap("6")
    second = await let_timed_steps_run(chat, clock, rec, "surf")
    assert await step_now(app) == "extend"
    assert 10 * 60 <= total(first) + total(second) <= 15 * 60
    await chat.tap("A few more minutes")
    extra = await let_timed_steps_run(chat, clock, rec, "surf")
    assert len(extra) >= 2 and all(60 <= s <= 90 for _, s in extra)
    assert 10 * 60 <= total(first) + total(second) + total(extra) <= 15 * 60
    assert await step_now(app) == "after"
    await chat.tap("4")
    assert "from 9 to 4" in chat.text()
    [entry] = log(app).rows
    assert (entry.exercise, entry.before, entry.after) == ("surf", 9, 4)


async def test_urge_surfing_can_finish_without_extending(
    chat: Chat, app: Unblend, clock: FakeClock, rec: RecordingOutbound
) -> None:
    await chat.welcome()
    await start(chat, "surf", before=7)
    await let_timed_steps_run(chat, clock, rec, "surf")
    await chat.tap("Skip")  # the middle rating is optional
    await let_timed_steps_run(chat, clock, rec, "surf")
    await chat.tap("Finish here")
    assert "How strong is the urge now" in chat.text()
    await chat.tap("7")
    assert "stayed at 7" in chat.text()


async def test_stopping_mid_exercise_is_kind_and_a_later_ground_works(
    chat: Chat, app: Unblend, clock: FakeClock, rec: RecordingOutbound
) -> None:
    await chat.welcome()
    await start(chat, "sober")
    clock.advance(timedelta(seconds=10))
    await app.run_due()
    rec.sent.clear()
    await chat.tap("Stop")
    assert "we've stopped there" in chat.text()
    assert "whenever you want to come back" in chat.text()
    assert chat.labels() == []
    # No paced step arrives after a stop, and nothing is logged for it.
    clock.advance(timedelta(minutes=10))
    assert await app.run_due() == 0
    assert rec.sent == []
    assert log(app).rows == []
    await chat.send("/ground")
    assert "Urge surfing" in chat.labels()
    await chat.send("/ground sober")
    assert "SOBER breathing space" in chat.text()
    await chat.send("stop")
    assert "we've stopped there" in chat.text()


# -- the ending -----------------------------------------------------------------------------


async def finish_senses(chat: Chat, before: int | None, after: int | None) -> str:
    await start(chat, "senses", before=before)
    for _ in range(4):
        await chat.tap("Continue")
    await chat.tap("Done")
    await chat.tap("Skip" if after is None else str(after))
    return chat.text()


@pytest.mark.parametrize(
    ("before", "after", "expect"),
    [
        (8, 5, "went from 8 to 5"),
        (4, 0, "went from 4 to 0"),
        (5, 5, "It stayed at 5. That's okay"),
        (3, 6, "It went from 3 to 6. That happens sometimes"),
        (None, 4, "However it went, noticing is enough"),
        (6, None, "However it went, noticing is enough"),
    ],
)
async def test_the_end_names_the_change_without_judgement(
    chat: Chat, before: int | None, after: int | None, expect: str
) -> None:
    await chat.welcome()
    text = await finish_senses(chat, before, after)
    assert expect in text
    went_up = before is not None and after is not None and after > before
    assert ("isn't a failure" in text) is went_up
    assert chat.labels() == ["Another exercise", "Check in"]


async def test_a_strong_feeling_at_the_end_points_to_people(chat: Chat) -> None:
    await chat.welcome()
    text = await finish_senses(chat, 9, 9)
    assert "stayed at 9" in text
    assert "/crisis" in text
    text = await finish_senses(chat, 9, 6)
    assert "/crisis" not in text


async def test_the_next_step_buttons_work(chat: Chat) -> None:
    await chat.welcome()
    await finish_senses(chat, 5, 3)
    await chat.tap("Another exercise")
    assert "Box breathing" in chat.labels()
    await finish_senses(chat, 5, 3)
    await chat.tap("Check in")
    assert "How is your mood right now?" in chat.text()


async def test_a_very_strong_urge_in_a_checkin_leads_to_the_menu(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.tap("2")
    await chat.tap("9")
    await chat.tap("Ground now")
    assert "Feet and hands" in chat.labels()


# -- cold water -----------------------------------------------------------------------------


async def test_cold_water_is_off_unless_turned_on(chat: Chat, app: Unblend) -> None:
    await chat.welcome()
    await chat.send("/ground")
    assert "Cold water" not in chat.labels()
    await chat.send("/ground cold")
    assert "isn't turned on here" in chat.text()
    assert "Cold water" not in chat.labels()
    await chat.choose("ground:cold")
    assert "isn't turned on here" in chat.text()
    assert await step_now(app) is None


async def test_cold_water_shows_its_cautions_first(clock: FakeClock) -> None:
    app = cold_app(clock)
    rec = RecordingOutbound()
    app.outbound.register("test", rec)
    chat = Chat(app)
    await chat.welcome()
    await chat.send("/ground")
    assert "Cold water" in chat.labels()
    await chat.tap("Cold water")
    cautions = chat.text()
    for caution in ("heart condition", "slow heart rate", "beta-blockers", "pregnant", "eating"):
        assert caution in cautions
    assert chat.labels()[:2] == ["Go on", "Pick another exercise"]
    await chat.tap("Pick another exercise")
    assert "Here are the others" in chat.text()
    assert "Cold water" not in chat.labels() and "Feet and hands" in chat.labels()
    assert log(app).rows == []
    # Skipping the cautions does not start it either.
    await chat.send("/ground cold")
    await chat.tap("Skip")
    assert "Here are the others" in chat.text()
    await chat.send("/ground cold")
    await chat.tap("Go on")
    await chat.tap("7")
    await chat.tap("I'm ready")
    assert "30 seconds" in chat.text()
    walked = await let_timed_steps_run(chat, clock, rec, "cold")
    assert walked == [("cold", 30), ("rest", 30)]
    await chat.tap("4")
    assert "from 7 to 4" in chat.text()
    assert [(p.exercise, p.before, p.after) for p in log(app).rows] == [("cold", 7, 4)]


def test_cold_water_is_a_config_choice(tmp_path: Path) -> None:
    assert load_config(None, env={}).get("practices", "cold_water") is False
    good = tmp_path / "on.toml"
    good.write_text("[practices]\ncold_water = true\n")
    assert load_config(good, env={}).get("practices", "cold_water") is True
    bad = tmp_path / "bad.toml"
    bad.write_text('[practices]\ncold_water = "yes"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(bad, env={})
    assert "[practices] cold_water: must be true or false" in str(caught.value)


async def test_bootstrap_passes_the_cold_water_setting_on(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('[storage]\npath = "bot.sqlite"\n[practices]\ncold_water = true\n')
    runtime = await build_runtime(load_config(config_file, env={}), env={})
    try:
        assert runtime.app.settings.cold_water is True
    finally:
        await runtime.close()


# -- the practice log -----------------------------------------------------------------------


async def test_the_log_is_kept_only_with_consent(
    chat: Chat, app: Unblend, clock: FakeClock
) -> None:
    await chat.welcome(keep=False)
    text = await finish_senses(chat, 8, 5)
    assert "kept" not in text
    assert log(app).rows == []
    await chat.send("/consent")
    await chat.tap("Keep my check-ins")
    clock.advance(timedelta(minutes=5))
    text = await finish_senses(chat, 6, None)
    assert "I've kept this with your history" in text
    [entry] = await app.repos.practices.since(MEMBER, clock.now() - timedelta(days=1))
    assert (entry.exercise, entry.before, entry.after, entry.at) == ("senses", 6, None, clock.now())
    assert await app.repos.practices.since(MEMBER, clock.now() + timedelta(seconds=1)) == []
    assert await app.repos.practices.since(2, clock.now() - timedelta(days=1)) == []


async def test_the_log_on_sqlite_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "unblend.sqlite"
    db, cipher = await open_encrypted(path, {})
    app = Unblend(sqlite_repos(db, cipher), library(), detector(), clock)
    chat = Chat(app)
    await chat.welcome()
    await finish_senses(chat, 7, 3)
    clock.advance(timedelta(hours=1))
    await finish_senses(chat, None, 2)
    await db.close()

    db, cipher = await open_encrypted(path, {})
    try:
        assert await db.schema_version() >= 3
        repos = sqlite_repos(db, cipher)
        rows = await repos.practices.since(MEMBER, clock.now() - timedelta(days=1))
        assert [(r.exercise, r.before, r.after) for r in rows] == [
            ("senses", 7, 3),
            ("senses", None, 2),
        ]
        assert rows[1].at == clock.now()
        assert await repos.practices.since(MEMBER, clock.now()) == rows[1:]
    finally:
        await db.close()


# -- the real console -----------------------------------------------------------------------


def test_console_runs_a_paced_exercise_end_to_end(tmp_path: Path) -> None:
    console = ConsoleProcess(tmp_path, "console", "--user", "tester")
    try:
        console.read_until_prompt()
        console.say("/start")
        console.say("Okay")
        console.say("Yes, keep them")
        menu = console.say("/ground")
        assert "Paced breathing" in menu
        assert "how strong is any distress or urge right now" in console.say("paced breathing")
        assert "Round 1 of 3. Breathe in" in console.say("7")
        # The real pacer moves on by itself after four seconds, with no input at all.
        assert "Round 1 of 3. And breathe out slowly" in console.read_until_prompt()
        seen = ""
        for _ in range(20):
            out = console.say("Continue")
            seen += out
            if "How strong is any distress or urge now" in out:
                break
        assert "Round 3 of 3. And out" in seen
        assert "keep that rhythm on your own" in seen
        assert "How strong is any distress or urge now" in seen
        end = console.say("3")
        assert "Your distress or urge went from 7 to 3" in end
        assert "[1] Another exercise" in end and "[2] Check in" in end
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise


async def test_the_menu_alone_leaves_an_unfinished_checkin_where_it_was(chat: Chat) -> None:
    await chat.welcome()
    await chat.send("/checkin")
    await chat.send("/ground")
    assert "set your unfinished" not in chat.text()
    await chat.send("4")
    assert "How strong is any urge" in chat.text()
