"""Which catalog answers an event, or speaks to a member outside one (issue 16): the order of
core/language/languages.py, read from the member's row and the event."""

from __future__ import annotations

from core.kernel.catalog import Catalog
from core.kernel.model import Event, SpaceKind
from core.kernel.ports import MemberRepo
from core.kernel.records import Member
from core.language.languages import Languages


async def catalog_for(languages: Languages, members: MemberRepo, event: Event) -> Catalog:
    """The language a member is answered in: their /language choice, else their platform's,
    else (for something done in or from a group) the group's, else English."""
    member = await members.find(event.platform, event.user_id)
    chosen = languages.chosen(member)
    if chosen is not None:
        return languages.catalog(chosen)
    locale = languages.match(event.locale) or ""
    if not locale:
        in_group = event.space.kind is SpaceKind.GROUP
        group = event.space.id if in_group else event.from_group
        locale = await languages.group_locale(event.platform, group) if group else ""
    if member is not None:
        # For what the bot sends by itself later (a paced step, a reminder).
        languages.remember(event.platform, event.user_id, locale)
    return languages.catalog(locale)


async def member_catalog(
    languages: Languages, members: MemberRepo, platform: str, user_id: str
) -> Catalog:
    """For what is said to a member outside an event of theirs (an adapter's note before a
    paced step): their choice, else their platform's language as last seen, else English."""
    member = await members.find(platform, user_id)
    return languages.for_member(member or Member(0, platform, user_id))
