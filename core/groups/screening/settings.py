"""A group's own safety settings (issue 7): crisis terms and exclusions, opt-in screening of the
group's conversation, and how long the group's check-in data is kept.

Moderators add terms and exclusions with ``/group terms``; they never remove the core set
(see :meth:`CrisisDetector.with_terms`). The phrases are answered privately to the moderator,
so they never show in the group. Screening is off by default: a group's conversation is not
even read until its moderators turn it on. Each group's detector is built once and rebuilt
only when its terms change. Nothing here logs what anyone wrote.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.groups.audit.log import record
from core.groups.audit.records import Action
from core.groups.moderators import refused_moderator
from core.groups.records import Group
from core.groups.screening.ports import GroupSafetyRepo, ScreeningStores, host
from core.groups.screening.records import GroupSafetySettings
from core.kernel.feature import GroupSetting
from core.kernel.model import Event, Reply, Space, SpaceKind
from core.kernel.numbers import parse_number
from core.kernel.shown import echo, one_line
from core.safety import CrisisDetector, Level

if TYPE_CHECKING:
    from core.kernel.turn import Turn

MAX_PHRASES = 100
MAX_PHRASE_CHARS = 80
MARKUP = frozenset("<>&")
GROUP_FLOW = "group_checkin"
_POST_CACHE = 1024
EXAMPLES = {
    "add": "/group terms add white out",
    "remove": "/group terms remove white out",
    "exclude": "/group terms exclude white out pen",
    "unexclude": "/group terms unexclude white out pen",
}
EX_RETENTION = "/group settings retention 90"


def configures_terms(event: Event) -> bool:
    """Whether the event is `/group terms ...`: its words are phrases to look for."""
    name = (event.command or "").strip().lstrip("/").split("@", 1)[0].casefold()
    return name == "group" and bool(event.args) and event.args[0].casefold() == "terms"


def retention_for(settings: GroupSafetySettings | None, default: int, cap: int) -> int:
    """Days a group's check-in data is kept: its own choice or the default, under the cap."""
    chosen = settings.retention_days if settings and settings.retention_days else default
    return max(1, min(chosen, cap))


class GroupSafety:
    """Every group's safety settings in memory (read once), and each group's own detector.

    `keep=False` (other processes write the same database): the settings are read again for
    every question, so a change made through another process counts at once; detectors are
    still kept, rebuilt only when a group's terms change."""

    def __init__(self, repo: GroupSafetyRepo, keep: bool = True) -> None:
        self._repo = repo
        self._keep = keep
        self._by_id: dict[int, GroupSafetySettings] | None = None
        self._by_space: dict[tuple[str, str], int] = {}
        self._detectors: dict[int, tuple[CrisisDetector, GroupSafetySettings, CrisisDetector]] = {}
        self._post_groups: dict[int, int] = {}
        self._any_terms = False  # whether any group added a phrase: else no further reads
        self.builds = 0  # detectors built so far: they are rebuilt only when terms change

    async def _all(self) -> dict[int, GroupSafetySettings]:
        if self._by_id is None or not self._keep:
            found = {s.group_id: s for s in await self._repo.all()}
            # Another task may have loaded (and changed) it meanwhile.
            if self._by_id is None or not self._keep:
                self._by_space = {(s.platform, s.space_id): s.group_id for s in found.values()}
                self._by_id = found
                self._any_terms = any(s.terms or s.exclusions for s in found.values())
        return self._by_id

    async def settings(self, group: Group) -> GroupSafetySettings:
        found = (await self._all()).get(group.id)
        return found or GroupSafetySettings(group.id, group.platform, group.space_id)

    async def for_space(self, platform: str, space_id: str) -> GroupSafetySettings | None:
        known = await self._all()
        group_id = self._by_space.get((platform, space_id))
        return None if group_id is None else known.get(group_id)

    async def save(self, settings: GroupSafetySettings, now: datetime) -> None:
        known = await self._all()
        await self._repo.put(settings, now)
        known[settings.group_id] = settings
        self._by_space[(settings.platform, settings.space_id)] = settings.group_id
        self._any_terms = any(s.terms or s.exclusions for s in known.values())

    async def screens(self, platform: str, space_id: str) -> bool:
        """Whether this group's conversation is read at all (its moderators opted in)."""
        found = await self.for_space(platform, space_id)
        return found is not None and found.screening

    async def group_country(self, platform: str, space_id: str) -> str:
        """The group's crisis-resource country, or "" for the bot's default."""
        group = await self._repo.find_group(platform, space_id)
        return "" if group is None else group.country

    # -- detectors ------------------------------------------------------------------------

    def detector(
        self, base: CrisisDetector, settings: GroupSafetySettings | None
    ) -> CrisisDetector:
        """The core detector with the group's own terms; cached until the terms change."""
        if settings is None or not (settings.terms or settings.exclusions):
            return base
        cached = self._detectors.get(settings.group_id)
        if cached is not None:
            built_from, built_for, detector = cached
            same = (built_for.terms, built_for.exclusions) == (settings.terms, settings.exclusions)
            if built_from is base and same:
                return detector
        detector = base.with_terms(settings.terms, settings.exclusions)
        self.builds += 1
        self._detectors[settings.group_id] = (base, settings, detector)
        return detector

    async def detector_for(
        self,
        base: CrisisDetector,
        repos: ScreeningStores,
        platform: str,
        space: Space,
        member_id: int,
    ) -> CrisisDetector:
        """The detector for a member's words: in a group, that group's; in a private chat, the
        group whose check-in the member is answering, when they are; else the core one."""
        known = await self._all()
        if not self._any_terms:
            return base  # the common case: no group added anything, no further reads
        if space.kind is SpaceKind.GROUP:
            return self.detector(base, await self.for_space(platform, space.id))
        if not member_id:
            return base
        session = await repos.sessions.get(member_id)
        raw = session.context.get("post", "") if session is not None else ""
        post_id = parse_number(raw)
        if session is None or session.flow_id != GROUP_FLOW or post_id is None:
            return base
        group_id = self._post_groups.get(post_id)
        if group_id is None:
            post = await repos.groups.post(post_id)
            if post is None:
                return base
            if len(self._post_groups) >= _POST_CACHE:
                self._post_groups.clear()
            group_id = self._post_groups[post_id] = post.group_id
        return self.detector(base, known.get(group_id))

    # -- retention --------------------------------------------------------------------------

    async def purge(self, groups: list[Group], now: datetime, default: int, cap: int) -> int:
        """Each group's check-in data older than that group's retention; rows removed."""
        known = await self._all()
        removed = 0
        for group in groups:
            days = retention_for(known.get(group.id), default, cap)
            removed += await self._repo.purge_group(group, now - timedelta(days=days))
        return removed


# -- phrases ----------------------------------------------------------------------------------


def phrase_problem(turn: Turn, phrase: str, example: str) -> str | None:
    """A kind, precise message when `phrase` cannot be a term or an exclusion; else None."""
    c = turn.cat
    if not phrase:
        return c.text("gsafety.phrase_missing", example=example)
    if len(phrase) > MAX_PHRASE_CHARS:
        return c.text(
            "gsafety.phrase_too_long", got=len(phrase), limit=MAX_PHRASE_CHARS, example=example
        )
    if MARKUP & set(phrase):
        return c.text("gsafety.phrase_markup", example=example)
    if not key_of(phrase):
        return c.text("gsafety.phrase_no_words", example=example)
    return None


def key_of(phrase: str) -> str:
    """What makes two phrases the same one: words only, case and apostrophes aside."""
    joined = phrase.casefold().replace("'", "").replace("\u2019", "")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in joined).split())


# -- /group terms -----------------------------------------------------------------------------


def _private(turn: Turn, text: str) -> None:
    """To the moderator alone: a group's crisis phrases never show in the group."""
    fallback = Reply(turn.cat.text("groups.start_bot"), private=False)
    turn.add(Reply(text, group_fallback=fallback))


async def terms_command(turn: Turn, group: Group, args: tuple[str, ...]) -> None:
    """`/group terms [list|add|remove|exclude|unexclude] <phrase>`, for moderators."""
    if refused_moderator(turn, "gsafety.terms_not_moderator"):
        return
    cache = host(turn.app).group_safety
    settings = await cache.settings(group)
    sub = args[0].casefold() if args else "list"
    phrase = one_line(" ".join(args[1:]))
    if sub == "list":
        _private(turn, _listing(turn, settings))
        return
    if sub not in ("add", "remove", "exclude", "unexclude"):
        unknown = turn.cat.text("gsafety.terms_unknown", got=echo(sub))
        _private(turn, f"{unknown}\n\n{turn.cat.text('gsafety.terms_usage')}")
        return
    problem = phrase_problem(turn, phrase, EXAMPLES[sub])
    if problem is not None:
        _private(turn, problem)
        return
    exclusion = sub in ("exclude", "unexclude")
    current = settings.exclusions if exclusion else settings.terms
    found = [p for p in current if key_of(p) == key_of(phrase)]
    kind = "exclusion" if exclusion else "term"
    if sub in ("add", "exclude"):
        if found:
            _private(turn, turn.cat.text(f"gsafety.{kind}_exists", phrase=phrase))
            return
        if len(current) >= MAX_PHRASES:
            _private(turn, turn.cat.text("gsafety.too_many", limit=MAX_PHRASES))
            return
        changed = (*current, phrase)
        key = f"gsafety.{kind}_added"
    elif not found:
        rules = host(turn.app).detector.rules_only()
        core = not exclusion and rules.assess(phrase) is Level.CRISIS
        missing = "gsafety.term_core" if core else f"gsafety.{kind}_missing"
        _private(turn, turn.cat.text(missing, phrase=phrase))
        return
    else:
        changed = tuple(p for p in current if key_of(p) != key_of(phrase))
        key = f"gsafety.{kind}_removed"
    field = "exclusions" if exclusion else "terms"
    await cache.save(replace(settings, **{field: changed}), turn.now)  # type: ignore[arg-type]
    adding = sub in ("add", "exclude")
    old, new = ("", phrase) if adding else (found[0], "")
    await record(turn, group, Action.SETTING, field, old, new)
    _private(turn, turn.cat.text(key, phrase=phrase))


def _listing(turn: Turn, settings: GroupSafetySettings) -> str:
    c = turn.cat
    none = c.text("gsafety.none_yet")
    return c.text(
        "gsafety.terms_list",
        count=len(settings.terms),
        limit=MAX_PHRASES,
        terms="\n".join(f"• {p}" for p in settings.terms) or none,
        excluded=len(settings.exclusions),
        exclusions="\n".join(f"• {p}" for p in settings.exclusions) or none,
    )


# -- /group settings screening | retention ----------------------------------------------------


async def change_setting(turn: Turn, group: Group, name: str, value: str) -> None:
    """`/group settings screening on|off` and `/group settings retention <days>|default`."""
    cache = host(turn.app).group_safety
    settings = await cache.settings(group)
    said = _screening(turn, settings, value) if name == "screening" else _retention(turn, value)
    if isinstance(said, str):
        turn.add(Reply(said, private=False))
        return
    changed, key, params = said
    if name == "screening":
        new = replace(settings, screening=bool(changed))
    else:
        new = replace(settings, retention_days=changed or None)
    await cache.save(new, turn.now)
    old_value, new_value = _audited(settings, name), _audited(new, name)
    if old_value != new_value:
        await record(turn, group, Action.SETTING, name, old_value, new_value)
    turn.add(Reply(turn.cat.text(key, **params), private=False))


def _audited(settings: GroupSafetySettings, name: str) -> str:
    if name == "screening":
        return "on" if settings.screening else "off"
    return str(settings.retention_days or "")


Said = tuple[int | None, str, dict[str, str | int]]


def _screening(turn: Turn, settings: GroupSafetySettings, value: str) -> Said | str:
    word = value.casefold()
    if word not in ("on", "off", "yes", "no"):
        return turn.cat.text("group.on_off_invalid", example="/group settings screening on")
    on = word in ("on", "yes")
    return int(on), "gsafety.screening_now_on" if on else "gsafety.screening_now_off", {}


def _retention(turn: Turn, value: str) -> Said | str:
    c, app = turn.cat, turn.app.settings
    cap = app.retention_days_max
    default = retention_for(None, app.retention_days, cap)
    word = value.casefold().removesuffix("days").strip()
    if word in ("default", "off", "none"):
        return None, "gsafety.retention_reset", {"days": default}
    days = parse_number(word)
    if days is None:
        return c.text("gsafety.retention_invalid", example=EX_RETENTION)
    if days < 1:
        return c.text("gsafety.retention_too_short", example="/group settings retention 30")
    if days > cap:
        return c.text("gsafety.retention_over_cap", got=days, cap=cap)
    return days, "gsafety.retention_saved", {"days": days}


async def add_settings_view(turn: Turn, group: Group) -> None:
    """Adds screening, retention and the number of the group's own phrases to the settings
    message `/group settings` just said (the phrases themselves stay out of the group)."""
    view = await settings_view(turn, group)
    last = turn.replies[-1] if turn.replies else None
    if last is None or last.private:
        turn.add(Reply(view, private=False))
    else:
        turn.replies[-1] = replace(last, text=f"{last.text}\n{view}")


async def settings_view(turn: Turn, group: Group) -> str:
    """The lines `/group settings` adds for screening, retention and the group's terms."""
    c, app = turn.cat, turn.app.settings
    settings = await host(turn.app).group_safety.settings(group)
    cap = app.retention_days_max
    days = retention_for(settings, app.retention_days, cap)
    if settings.retention_days:
        retention = c.text("gsafety.retention_own", days=days, cap=cap)
    else:
        retention = c.text("gsafety.retention_default", days=days)
    return c.text(
        "gsafety.settings_view",
        screening=c.text("gsafety.screening_on" if settings.screening else "gsafety.screening_off"),
        retention=retention,
        terms=len(settings.terms),
        exclusions=len(settings.exclusions),
    )


# A group's own screening and retention (issue 7): /group settings lists and changes them.
GROUP_SETTINGS = (
    GroupSetting("screening", "/group settings screening on", change_setting, ("on", "off")),
    GroupSetting("retention", EX_RETENTION, change_setting, ("90", "default")),
)
SETTINGS = tuple(s.name for s in GROUP_SETTINGS)
