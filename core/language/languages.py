"""Which language a member or a group is answered in (issue 16).

A member is answered in the language they chose with /language; else in their platform's
(Telegram's `language_code`, Discord's `interaction.locale`); else, for something done in or
from a group, in the group's language; else in English. What the bot posts in a group (its
prompts, shared lines, summaries, crisis lines) is in the group's language.

A platform's language tag is untrusted text: it is cut short, read only when it is plain ASCII
letters, digits and hyphens, and only ever mapped to a locale the bot ships (a folder in
content/). Nothing else reaches the content loader or the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from core.kernel.catalog import FALLBACK_LOCALE, Catalog, ContentLibrary
from core.kernel.records import Member

# BCP 47 tags are rarely longer than this; anything longer is not a tag a platform sends.
MAX_TAG = 35
TAG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Kept in memory only: the language each member's platform last gave, for what the bot sends
# by itself (a paced step, a reminder), and each group's setting.
MAX_REMEMBERED = 10_000
# What a member may type after /language: a code or a language's name.
MAX_TYPED = 64


class Spoken(Protocol):
    """A group as languages see it: the language its moderators chose ("" follows the platform)."""

    @property
    def language(self) -> str: ...


GroupLookup = Callable[[str, str], Awaitable[Spoken | None]]


def clean_tag(raw: str) -> str:
    """A platform's language tag ("es-419", "pt_BR") as lower-case ASCII; "" when it is not
    one (too long, or anything but letters, digits, hyphens and underscores)."""
    if not raw or len(raw) > MAX_TAG:
        return ""
    tag = raw.strip().replace("_", "-").lower()
    return tag if tag.isascii() and TAG.fullmatch(tag) else ""


def match_locale(raw: str, shipped: tuple[str, ...]) -> str | None:
    """The shipped locale a tag names: the whole tag, else its shorter prefixes
    ("es-419" -> "es"); None when the bot ships none of them."""
    tag = clean_tag(raw)
    parts = tag.split("-") if tag else []
    for size in range(len(parts), 0, -1):
        candidate = "-".join(parts[:size])
        if candidate in shipped:
            return candidate
    return None


def folded(text: str) -> str:
    """For comparing names as people type them: no accents, no case ("Español" = "espanol")."""
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class Languages:
    def __init__(
        self, library: ContentLibrary, find_group: GroupLookup | None = None, keep: bool = True
    ) -> None:
        self.library = library
        # False where other processes write the same database: a group's language is read
        # each time, never kept (core/storage/caching.py).
        self._keep = keep
        self.shipped: tuple[str, ...] = library.locales()
        self._find_group = find_group
        self._hints: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._groups: OrderedDict[tuple[str, str], str] = OrderedDict()

    # -- what is shipped ------------------------------------------------------------------

    def match(self, raw: str) -> str | None:
        return match_locale(raw, self.shipped)

    def catalog(self, locale: str | None = None) -> Catalog:
        """The catalog of a shipped locale; English for anything else."""
        return self.library.catalog(locale if locale in self.shipped else FALLBACK_LOCALE)

    def name(self, locale: str) -> str:
        """A language by its own name ("Español"), as its speakers look for it."""
        return self.catalog(locale).text("language.name")

    def find(self, typed: str) -> str | None:
        """The shipped locale a member typed: a code ("es", "es-MX") or a name, in the
        language's own words or in English ("español", "Spanish"); None when none fits."""
        words = " ".join(typed.split())
        if not words or len(words) > MAX_TYPED:
            return None
        code = self.match(words)
        if code is not None:
            return code
        wanted = folded(words)
        for locale in self.shipped:
            cat = self.catalog(locale)
            if wanted in (
                folded(cat.text("language.name")),
                folded(cat.text("language.english_name")),
            ):
                return locale
        return None

    # -- members --------------------------------------------------------------------------

    def chosen(self, member: Member | None) -> str | None:
        """The member's own choice, if it is still a shipped locale."""
        language = member.language if member is not None else None
        return language if language in self.shipped else None

    def remember(self, platform: str, user_id: str, locale: str) -> None:
        key = (platform, user_id)
        self._hints[key] = locale
        self._hints.move_to_end(key)
        while len(self._hints) > MAX_REMEMBERED:
            self._hints.popitem(last=False)

    def forget(self, platform: str, user_id: str) -> None:
        self._hints.pop((platform, user_id), None)

    def for_member(self, member: Member) -> Catalog:
        """For what the bot sends a member by itself: their choice, else their platform's
        language as last seen (since the bot started), else English."""
        chosen = self.chosen(member)
        if chosen is not None:
            return self.catalog(chosen)
        return self.catalog(self._hints.get((member.platform, member.user_id)))

    # -- groups ---------------------------------------------------------------------------

    def for_group(self, group: Spoken | None) -> Catalog:
        return self.catalog(group.language if group is not None else None)

    async def group_locale(self, platform: str, space_id: str) -> str:
        """A group's language ("" when not set), read once and kept until it changes."""
        key = (platform, space_id)
        if key in self._groups and self._keep:
            return self._groups[key]
        group = await self._find_group(platform, space_id) if self._find_group else None
        self.group_changed(key, group.language if group is not None else "")
        return self._groups[key]

    def group_changed(self, key: tuple[str, str], language: str) -> None:
        self._groups[key] = language if language in self.shipped else ""
        self._groups.move_to_end(key)
        while len(self._groups) > MAX_REMEMBERED:
            self._groups.popitem(last=False)
