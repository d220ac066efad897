"""/country: the member picks their country privately; crisis replies then show its lines."""

from __future__ import annotations

from core.crisis.content import COUNTRY_MESSAGES
from core.crisis.ports import host
from core.crisis.reply import resources_text
from core.kernel.feature import Feature
from core.kernel.model import Choice, Reply
from core.kernel.turn import Turn
from core.language.languages import folded

PREFIX = "country"
ELSEWHERE = "INTL"


def _typed_code(turn: Turn, typed: str) -> str | None:
    """A country typed after /country, by its code ("DE") or its name, in the member's language
    or in English, like the commands ("Alemania", "Germany")."""
    wanted = folded(typed)
    for catalog in (turn.cat, host(turn.app).languages.catalog()):
        for code, country in catalog.countries.items():
            if wanted in (code.casefold(), folded(country.name)) and code in turn.cat.countries:
                return code
    return None


async def show_country(turn: Turn, args: tuple[str, ...]) -> None:
    if args:
        code = _typed_code(turn, " ".join(args))
        if code is not None:
            await country_choice(turn, code)
            return
        turn.say("country.typed_unknown")
    countries = turn.cat.countries
    listed = [
        Choice(f"{PREFIX}:{code}", c.name) for code, c in countries.items() if code != ELSEWHERE
    ]
    choices = (*listed, Choice(f"{PREFIX}:{ELSEWHERE}", turn.cat.text("country.elsewhere")))
    current = turn.cat.country(turn.country).name
    turn.say("country.ask", choices, country=current)


async def country_choice(turn: Turn, rest: str) -> None:
    code = rest.upper()
    if code not in turn.cat.countries:
        turn.say("country.unknown")
        return
    turn.member = await turn.repos.members.set_country(turn.member.id, code)
    name = turn.cat.country(code).name
    text = turn.cat.text("country.saved", country=name)
    turn.add(Reply(text + "\n\n" + resources_text(turn.cat, code)))


FEATURE = Feature(
    name="country",
    order=90,
    commands={"country": show_country},
    buttons=frozenset({"country"}),
    choices={PREFIX: country_choice},
    messages=COUNTRY_MESSAGES,
)
