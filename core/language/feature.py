"""/language: the member picks the language the bot uses with them (issue 16).

It works before the welcome (someone may want to read the welcome in their own language) and
stores nothing until a language is picked. The choice is kept on the member's row: /export
shows it, /forget erases it. "Same as my app" clears it, and the platform's language is
followed again.
"""

from __future__ import annotations

from core.kernel.feature import Feature
from core.kernel.model import Choice, Reply
from core.kernel.shown import echo
from core.kernel.turn import Turn
from core.language.content import MESSAGES
from core.language.ports import host

PREFIX = "language"
FOLLOW = "auto"


def _buttons(turn: Turn) -> tuple[Choice, ...]:
    languages = host(turn.app).languages
    listed = [Choice(f"{PREFIX}:{code}", languages.name(code)) for code in languages.shipped]
    return (*listed, Choice(f"{PREFIX}:{FOLLOW}", turn.cat.text("language.follow_platform")))


def _choices_text(turn: Turn) -> str:
    languages = host(turn.app).languages
    return ", ".join(f"{languages.name(code)} ({code})" for code in languages.shipped)


async def language_command(turn: Turn, args: tuple[str, ...]) -> None:
    if args:
        typed = " ".join(args)
        code = host(turn.app).languages.find(typed)
        if code is not None:
            await _store(turn, code)
            return
        turn.say("language.unknown", _buttons(turn), got=echo(typed), languages=_choices_text(turn))
        return
    turn.say(
        "language.ask", _buttons(turn), language=host(turn.app).languages.name(turn.cat.locale)
    )


async def language_choice(turn: Turn, rest: str) -> None:
    if rest == FOLLOW:
        await _store(turn, None)
    elif rest in host(turn.app).languages.shipped:
        await _store(turn, rest)
    else:
        # A forged or outdated button: the choices again, nothing stored.
        turn.say(
            "language.ask", _buttons(turn), language=host(turn.app).languages.name(turn.cat.locale)
        )


async def _store(turn: Turn, code: str | None) -> None:
    """Keeps the choice (None: follow the platform) and confirms in the language now in use."""
    repos, event = turn.repos, turn.event
    if turn.member.id or code is not None:  # an unknown member following the app: nothing
        member = turn.member
        if not member.id:
            member = await repos.members.get_or_create(event.platform, event.user_id, turn.now)
        turn.member = await repos.members.set_language(member.id, code)
    catalog = await turn.app.catalog_for(event)
    turn.cat = turn.own = catalog
    if code is None:
        text = catalog.text(
            "language.following", language=host(turn.app).languages.name(catalog.locale)
        )
    else:
        text = catalog.text("language.saved")
    turn.add(Reply(text))


FEATURE = Feature(
    name="language",
    order=100,
    commands={"language": language_command},
    buttons=frozenset({"language"}),
    choices={PREFIX: language_choice},
    # Before the welcome too, and nothing is stored by asking: only a choice is kept.
    traceless=frozenset({"language", PREFIX}),
    messages=MESSAGES,
)
