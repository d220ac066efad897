"""The core as the platforms see it: the one module an adapter imports (issue 14).

An adapter turns a platform's input into an `Event`, calls `Unblend.handle`, and renders the
`Reply`s; it learns what commands exist, where each one answers, a group's settings and their
suggestions from the features' declarations (`app.registry`), never from a feature's insides.
The import contracts in pyproject.toml keep bots/ to this module for anything a feature owns.
"""

from __future__ import annotations

from core.app import BUILTIN_COMMANDS, Unblend
from core.features import ALL_FEATURES, CORE
from core.grounding.menu import offered_in as offered_exercises
from core.groups.checkins.feature import PROMPT_LIMIT
from core.groups.checkins.service import ScheduleService
from core.groups.times import DAY_WORDS
from core.kernel.catalog import (
    FALLBACK_LOCALE,
    OPTION_NAME_PREFIX,
    Catalog,
    ContentContract,
    ContentLibrary,
)
from core.kernel.config import Config
from core.kernel.failures import log_failure
from core.kernel.feature import Command, Feature, GroupSetting, Where, build_registry
from core.kernel.locks import KeyedLocks
from core.kernel.membership import Check
from core.kernel.menu import MENU_NAME, MenuScope, command_menu
from core.kernel.model import MAX_CHOICE_ID_BYTES, Choice, Event, Reply, Space, SpaceKind
from core.kernel.numbers import parse_number
from core.kernel.pacing import PacingLoop
from core.kernel.records import Member
from core.kernel.settings import Settings
from core.language.languages import Languages
from core.outbox.drainer import (
    DeleteStatus,
    Delivery,
    OutboxDrainer,
    SendNotice,
    SendResult,
    SendStatus,
)
from core.parts.suggest import MAX_SUGGESTIONS, part_names, timezones
from core.privacy.data import PolicyFacts, policy_text
from core.privacy.retention import PurgeLoop
from core.repos import Repos, in_memory_repos, sqlite_repos

__all__ = [
    "ALL_FEATURES",
    "BUILTIN_COMMANDS",
    "CORE",
    "DAY_WORDS",
    "FALLBACK_LOCALE",
    "MAX_CHOICE_ID_BYTES",
    "MAX_SUGGESTIONS",
    "MENU_NAME",
    "OPTION_NAME_PREFIX",
    "PLATFORMS",
    "PROMPT_LIMIT",
    "REQUIRED_MESSAGES",
    "Catalog",
    "Check",
    "Choice",
    "Command",
    "Config",
    "ContentContract",
    "ContentLibrary",
    "DeleteStatus",
    "Delivery",
    "Event",
    "Feature",
    "GroupSetting",
    "KeyedLocks",
    "Languages",
    "Member",
    "MenuScope",
    "OutboxDrainer",
    "PacingLoop",
    "PolicyFacts",
    "PurgeLoop",
    "Reply",
    "Repos",
    "ScheduleService",
    "SendNotice",
    "SendResult",
    "SendStatus",
    "Settings",
    "Space",
    "SpaceKind",
    "Unblend",
    "Where",
    "command_menu",
    "content_contract",
    "in_memory_repos",
    "log_failure",
    "offered_exercises",
    "parse_number",
    "part_names",
    "policy_text",
    "sqlite_repos",
    "timezones",
]

# What the platforms' adapters show in their own words (their buttons, forms, slash options).
PLATFORMS = Feature(
    name="platforms",
    messages={
        "console.banner": "",
        # Discord adapter (issue 5)
        "discord.write_button": "",
        "discord.modal_title": "",
        "discord.modal_label": "",
        "discord.more_choices": "",
        "discord.no_description": "",
        "discord.moved_to_dm": "",
        "discord.dm_closed": "",
        "discord.not_moderator": "",
        "discord.option.exercise": "",
        "discord.option.part": "",
        "discord.option.add_part": "",
        "discord.option.talk": "",
        "discord.option.add_counter": "",
        "discord.option.slip": "",
        "discord.option.text": "",
        "discord.option.timezone": "",
        # Discord group check-ins (issue 6): slash options, subcommands, the day's thread
        "discord.option.schedule_time": "",
        "discord.option.schedule_timezone": "",
        "discord.option.schedule_days": "",
        "discord.option.schedule_channel": "",
        "discord.option.schedule_prompt": "",
        "discord.option.schedule_number": "",
        "discord.option.schedule_date": "",
        "discord.option.holiday_action": "",
        "discord.option.setting": "",
        "discord.option.setting_value": "",
        "discord.option.setting_channel": "",
        "discord.option.remind_time": "",
        "discord.option.quiet_days": "",
        "discord.command.schedule": "",
        "discord.command.group": "",
        "discord.sub.schedule_add": "",
        "discord.sub.schedule_list": "",
        "discord.sub.schedule_preview": "",
        "discord.sub.schedule_pause": "",
        "discord.sub.schedule_resume": "",
        "discord.sub.schedule_remove": "",
        "discord.sub.schedule_skip": "",
        "discord.sub.schedule_holiday": "",
        "discord.sub.schedule_holidays": "",
        "discord.sub.group_settings": "",
        "discord.sub.remind_show": "",
        "discord.sub.remind_set": "",
        "discord.sub.remind_pause": "",
        "discord.sub.remind_resume": "",
        "discord.sub.remind_quiet": "",
        "discord.sub.remind_off": "",
        "discord.choice.holiday_add": "",
        "discord.choice.holiday_remove": "",
        "discord.groups.thread_name": "",
        "telegram.contact_hidden": "",
        "discord.reach_contact": "mention",
        "discord.sub.volunteer_on": "",
        "discord.sub.volunteer_off": "",
        "discord.sub.volunteer_quiet": "",
        "discord.sub.volunteer_status": "",
        "discord.sub.group_audit": "",
        "discord.sub.group_terms": "",
        "discord.option.volunteer_group": "",
        "discord.option.quiet_hours": "",
        "discord.option.terms_action": "",
        "discord.option.terms_phrase": "",
        "discord.choice.terms_list": "",
        "discord.choice.terms_add": "",
        "discord.choice.terms_remove": "",
        "discord.choice.terms_exclude": "",
        "discord.choice.terms_unexclude": "",
        "discord.option.language": "",
        "discord.param.text": "",
        "discord.param.exercise": "",
        "discord.param.part": "",
        "discord.param.add": "",
        "discord.param.talk": "",
        "discord.param.slip": "",
        "discord.param.time": "",
        "discord.param.timezone": "",
        "discord.param.days": "",
        "discord.param.channel": "",
        "discord.param.prompt": "",
        "discord.param.number": "",
        "discord.param.date": "",
        "discord.param.action": "",
        "discord.param.setting": "",
        "discord.param.value": "",
        "discord.param.phrase": "",
        "discord.param.group": "",
        "discord.param.hours": "",
        "discord.param.language": "",
    },
)


def content_contract(features: tuple[Feature, ...] = ALL_FEATURES) -> ContentContract:
    """Everything the code needs of content: the app's, every feature's and the platforms'."""
    return build_registry((CORE, *features, PLATFORMS)).content_contract()


# Every message key the code uses, with its placeholders (the features declare them).
REQUIRED_MESSAGES = content_contract().messages
