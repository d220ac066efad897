"""Discord's side of group check-ins: outbox posts and the /schedule, /group, /remind commands.

The core decides what is posted and where; this module only sends it. A prompt goes to the
schedule's channel with a "Check in privately" button (the `~open:gcheckin-<token>` component,
which opens the private check-in ephemerally for whoever taps it). What members share goes to
that day's thread: a thread started on the prompt message the first time, whose id is the
prompt's message id (Discord's rule for threads started from a message), so nothing new is
stored. Where no thread can start (the bot lacks Create Public Threads, or the prompt is in a
thread itself), the lines go beside the prompt; that is remembered per prompt, so Discord is
asked once, and a missing permission is told to the group's moderators once (through the
outbox's notice, as a gone channel is). Summaries go to the channel itself.

Every message id this module hands back is `<channel id>/<message id>` (see `message_place`):
Discord needs both to reach a message again (a thread, a delete), and a shared line's channel
is a thread the schedule does not name.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import replace
from typing import Any, Literal

import aiohttp
import discord
from discord import app_commands
from discord.enums import AppCommandOptionType, ChannelType

from bots.discord_commands import (
    CHOICE_NAME_LIMIT,
    RunCommand,
    choice_name,
    describe,
    timezone_choices,
)
from bots.discord_perms import MODERATOR_PERMISSIONS
from bots.discord_render import Labels, build_view, split_text
from core.api import (
    DAY_WORDS,
    PROMPT_LIMIT,
    Catalog,
    Check,
    Delivery,
    Event,
    GroupSetting,
    Reply,
    SendNotice,
    SendResult,
    SendStatus,
)

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
THREAD_ARCHIVE_MINUTES: Literal[1440] = (
    1440  # a day's thread is archived after a quiet day; a post reopens it
)
THREAD_NAME_LIMIT = 100
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
KNOWN_THREADS = 10_000
DEFAULT_RETRY_AFTER = 5.0
ID_LIMIT = 999_999_999
TIME_LIMIT = 16
DATE_LIMIT = 32
ZONE_LIMIT = 64
VALUE_LIMIT = 100
# Longer than the core's own limit, so a long phrase gets the core's precise message.
PHRASE_LIMIT = 200
TERMS_ACTIONS = ("list", "add", "remove", "exclude", "unexclude")


def message_ref(channel_id: int, message_id: int) -> str:
    return f"{channel_id}/{message_id}"


def message_place(ref: str) -> tuple[int, int] | None:
    """(channel id, message id) from a `message_ref`; None when it is not one."""
    channel, _, message = ref.partition("/")
    if not (channel.isdigit() and message.isdigit()):
        return None
    return int(channel), int(message)


def result_of(exc: BaseException) -> SendResult:
    """How a failed send went, for the outbox: GONE is never retried."""
    if isinstance(exc, discord.RateLimited):
        return SendResult(SendStatus.RETRY, retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException) and exc.status == 429:
        return SendResult(SendStatus.RETRY, retry_after=_retry_after(exc))
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        # Unknown Channel, Missing Access, Missing Permissions, a member's closed DMs.
        return SendResult(SendStatus.GONE)
    # 5xx, network, timeouts, and anything else: a hiccup, tried again with backoff.
    return SendResult(SendStatus.RETRY)


def _retry_after(exc: discord.HTTPException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return max(0.0, float(headers.get("Retry-After", DEFAULT_RETRY_AFTER)))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


class GroupPoster:
    """The outbox's Poster for Discord (the adapter's `post` delegates here)."""

    def __init__(
        self, client: discord.Client, catalog: Callable[[str | None], Catalog], labels: Labels
    ) -> None:
        # `catalog(locale)`: the words this module adds (a thread's name), in the language the
        # delivery says it is in (issue 16).
        self.client, self.catalog, self.labels = client, catalog, labels
        self._threads: OrderedDict[int, None] = OrderedDict()  # prompts with a thread
        self._no_thread: OrderedDict[int, None] = OrderedDict()  # prompts where none can start

    async def post(self, delivery: Delivery) -> SendResult:
        try:
            place = await self._channel(delivery)
            if place is None:
                log.warning("Discord: an outbox item names no channel; not sent")
                return SendResult(SendStatus.GONE)
            channel_id, notice = place
            sent = await self._send(channel_id, delivery)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            result = result_of(exc)
            status = getattr(exc, "status", "-")
            log.warning(
                "Discord: an outbox message was not sent (%s, %s): %s",
                type(exc).__name__,
                status,
                result.status.value,
            )
            return result
        return SendResult(SendStatus.SENT, message_ref(channel_id, sent), notice=notice)

    async def _channel(self, delivery: Delivery) -> tuple[int, SendNotice | None] | None:
        """Where the delivery goes, and a notice for the moderators about it, if any."""
        if delivery.private:
            if not delivery.target.isdigit():
                return None
            dm = await self.client.create_dm(discord.Object(int(delivery.target)))
            return dm.id, None
        place = message_place(delivery.reply_to)
        if place is not None:
            return await self._day_thread(*place, self.catalog(delivery.reply.meta.get("locale")))
        where = delivery.thread or delivery.target
        return (int(where), None) if where.isdigit() else None

    async def _day_thread(
        self, channel_id: int, prompt_id: int, cat: Catalog
    ) -> tuple[int, SendNotice | None]:
        """The thread on the day's prompt (its id is the prompt's), started the first time."""
        if prompt_id in self._threads:
            return prompt_id, None
        if prompt_id in self._no_thread:
            return channel_id, None
        name = cat.text("discord.groups.thread_name")[:THREAD_NAME_LIMIT]
        try:
            await self.client.http.start_thread_with_message(
                channel_id, prompt_id, name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                if exc.status not in (400, 403):
                    raise
                # No thread can start here (the prompt is itself in a thread, or the bot may
                # not create threads): the line still reaches the group, beside the prompt,
                # and so do the day's other lines, without asking Discord again.
                log.info("Discord: no thread on a prompt (code %s); posting beside it", exc.code)
                _remember(self._no_thread, prompt_id)
                # A permission is the moderators' to give: they hear of it (once).
                return channel_id, SendNotice.NO_THREAD if exc.status == 403 else None
        _remember(self._threads, prompt_id)
        return prompt_id, None

    async def _send(self, channel_id: int, delivery: Delivery) -> int:
        reply = delivery.reply
        labels = self.labels
        if reply.meta.get("link_label"):
            labels = replace(labels, open=reply.meta["link_label"])
        view = build_view(reply.choices, labels, 0, reply.private_link)
        pieces = split_text(self._with_contact(reply)) or ["…"]
        channel = self.client.get_partial_messageable(channel_id)
        message_id = 0
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
            if last and view is not None:
                kwargs["view"] = view
            message = await channel.send(piece, **kwargs)
            message_id = message.id
        # The last piece carries the button: the day's thread starts on it.
        return message_id

    def _with_contact(self, reply: Reply) -> str:
        """A reach-out the member asked for names them as a mention: in a direct message (or the
        moderators' channel) it shows as their name, which opens their profile. Mentions are
        off for every message, so nobody is pinged."""
        user = reply.meta.get("contact_user", "")
        if not (user.isascii() and user.isdigit()):
            return reply.text
        cat = self.catalog(reply.meta.get("locale"))
        line = cat.text("discord.reach_contact", mention=f"<@{user}>")
        return f"{reply.text}\n\n{line}"


def _remember(prompts: OrderedDict[int, None], prompt_id: int) -> None:
    prompts[prompt_id] = None
    while len(prompts) > KNOWN_THREADS:
        prompts.popitem(last=False)


# -- who is in a server (issue 12) -----------------------------------------------------------------


def _snowflake(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _refused(exc: BaseException) -> Check:
    """Discord said no (unknown member or channel, no access), or could not be asked."""
    if isinstance(exc, discord.NotFound | discord.Forbidden):
        return Check.NO
    log.warning("Discord: a membership check failed (%s)", type(exc).__name__)
    return Check.UNKNOWN


class DiscordMembership:
    """The core's Membership port on Discord (the adapter registers it)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def in_group(self, group: str, user_id: str) -> Check:
        guild, user = _snowflake(group), _snowflake(user_id)
        if guild is None or user is None:
            return Check.NO
        try:
            # GET /guilds/{guild}/members/{user}: asked each time, no member cache or intent.
            await self.client.http.get_member(guild, user)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            return _refused(exc)
        return Check.YES

    async def opens_from(self, group: str, event: Event) -> Check:
        # Only a tap inside that server: Discord vouches for where an interaction came from,
        # and only a member of the server can tap there. Never from direct messages.
        return Check.YES if event.from_group and event.from_group == group else Check.NO

    async def mod_channel(self, group: str, channel: str, setter: str | None) -> Check:
        """A channel or thread of the same server (the setter's rights were the command's)."""
        return await self.channel_in_group(group, channel)

    async def channel_in_group(self, group: str, channel: str) -> Check:
        """A channel or thread of the same server."""
        guild, wanted = _snowflake(group), _snowflake(channel)
        if guild is None or wanted is None:
            return Check.NO
        known = self.client.get_channel(wanted)
        if known is not None:
            home = getattr(known, "guild", None)
            return Check.YES if home is not None and home.id == guild else Check.NO
        try:
            data: Any = await self.client.http.get_channel(wanted)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            return _refused(exc)
        return Check.YES if str(data.get("guild_id", "")) == str(guild) else Check.NO


# -- slash commands ----------------------------------------------------------------------------


class ChannelOption(app_commands.Transformer):
    """A text channel, announcement channel or thread, picked from Discord's list: its id."""

    @property
    def type(self) -> AppCommandOptionType:
        return AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[ChannelType]:
        return [ChannelType.text, ChannelType.news, ChannelType.public_thread]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> str:
        return str(getattr(value, "id", value))


Channel = app_commands.Transform[str, ChannelOption]
Callback = Callable[..., Awaitable[None]]


async def _zones(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
    return await timezone_choices(typed)


async def _days(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
    words = [w for w in ("daily", "weekdays", "weekends") if w in DAY_WORDS]
    shown = [w for w in words if w.startswith(typed.casefold().strip())] or words
    return [app_commands.Choice(name=w, value=w) for w in shown]


Suggest = Callable[[discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]


def setting_names(declared: Mapping[str, GroupSetting], typed: str) -> list[str]:
    """Every group setting the features declare, those starting with what was typed first."""
    wanted = typed.casefold().strip()
    return [n for n in declared if n.startswith(wanted)] or list(declared)


def _settings(declared: Mapping[str, GroupSetting]) -> Suggest:
    async def suggest(
        interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        names = setting_names(declared, typed)
        return [app_commands.Choice(name=n[:CHOICE_NAME_LIMIT], value=n) for n in names[:25]]

    return suggest


def _values(
    cat: Catalog, locales: tuple[str, ...], declared: Mapping[str, GroupSetting]
) -> Suggest:
    """Suggestions for a setting's value, as its declaration says: timezones, country codes,
    languages, or its own words (on/off, a time)."""

    async def suggest(
        interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        setting = str(getattr(interaction.namespace, "setting", "") or "").casefold()
        found = declared.get(setting)
        values = found.values if found is not None else ("off",)
        if values == "timezone":
            return await timezone_choices(typed)
        if values == "country":
            words = sorted(c for c in cat.countries if c != "INTL")
        elif values == "language":
            words = [*locales, "default"]
        else:
            words = list(values)
        wanted = typed.strip().casefold()
        shown = [w for w in words if w.casefold().startswith(wanted)][:25]
        return [app_commands.Choice(name=w, value=w) for w in shown]

    return suggest


def _sub(cat: Catalog, name: str, key: str, callback: Callback, parent: app_commands.Group) -> None:
    parent.add_command(
        app_commands.Command(
            name=name,
            description=describe(cat, f"discord.sub.{key}"),
            callback=callback,  # type: ignore[arg-type]
            parent=parent,
        )
    )


def schedule_command(run: RunCommand, cat: Catalog) -> app_commands.Group:
    """/schedule add|list|preview|pause|resume|remove|skip|holiday|holidays, for moderators.

    Hidden from everyone else in Discord's menu (Manage Server); at run time the core is told
    whether the member moderates (Event.is_moderator) and refuses kindly when not.
    """
    group = app_commands.Group(
        name="schedule",
        description=describe(cat, "discord.command.schedule"),
        guild_only=True,
        default_permissions=MODERATOR_PERMISSIONS,
    )

    @app_commands.describe(
        time=describe(cat, "discord.option.schedule_time"),
        timezone=describe(cat, "discord.option.schedule_timezone"),
        days=describe(cat, "discord.option.schedule_days"),
        channel=describe(cat, "discord.option.schedule_channel"),
        prompt=describe(cat, "discord.option.schedule_prompt"),
    )
    @app_commands.autocomplete(timezone=_zones, days=_days)
    async def add(
        interaction: discord.Interaction,
        time: app_commands.Range[str, 1, TIME_LIMIT],
        timezone: app_commands.Range[str, 1, ZONE_LIMIT] | None = None,
        days: app_commands.Range[str, 1, VALUE_LIMIT] | None = None,
        channel: Channel | None = None,
        prompt: app_commands.Range[str, 1, PROMPT_LIMIT] | None = None,
    ) -> None:
        args = ["add", time.strip()]
        if timezone:
            args.append("tz:" + timezone.strip())
        if days:
            args.append("days:" + ",".join(days.split()))
        # Without a channel, the check-in is posted where the command was typed.
        args.append(f"in:{channel or interaction.channel_id or ''}")
        if prompt:
            args += prompt.split()
        await run(interaction, "schedule", tuple(args))

    _sub(cat, "add", "schedule_add", add, group)

    def plain(word: str) -> Callback:
        async def command(interaction: discord.Interaction) -> None:
            await run(interaction, "schedule", (word,))

        return command

    def numbered(word: str) -> Callback:
        @app_commands.describe(number=describe(cat, "discord.option.schedule_number"))
        async def command(
            interaction: discord.Interaction, number: app_commands.Range[int, 1, ID_LIMIT]
        ) -> None:
            await run(interaction, "schedule", (word, str(number)))

        return command

    _sub(cat, "list", "schedule_list", plain("list"), group)
    for word in ("preview", "pause", "resume", "remove"):
        _sub(cat, word, f"schedule_{word}", numbered(word), group)

    @app_commands.describe(
        number=describe(cat, "discord.option.schedule_number"),
        date=describe(cat, "discord.option.schedule_date"),
    )
    async def skip(
        interaction: discord.Interaction,
        number: app_commands.Range[int, 1, ID_LIMIT],
        date: app_commands.Range[str, 1, DATE_LIMIT],
    ) -> None:
        await run(interaction, "schedule", ("skip", str(number), date.strip()))

    _sub(cat, "skip", "schedule_skip", skip, group)

    @app_commands.describe(
        action=describe(cat, "discord.option.holiday_action"),
        date=describe(cat, "discord.option.schedule_date"),
    )
    @app_commands.choices(
        action=[
            app_commands.Choice(name=choice_name(cat, f"discord.choice.holiday_{a}"), value=a)
            for a in ("add", "remove")
        ]
    )
    async def holiday(
        interaction: discord.Interaction,
        action: str,
        date: app_commands.Range[str, 1, DATE_LIMIT],
    ) -> None:
        await run(interaction, "schedule", ("holiday", action, date.strip()))

    _sub(cat, "holiday", "schedule_holiday", holiday, group)
    _sub(cat, "holidays", "schedule_holidays", plain("holidays"), group)
    return group


def group_command(
    run: RunCommand,
    cat: Catalog,
    locales: tuple[str, ...] = ("en",),
    declared: Mapping[str, GroupSetting] | None = None,
) -> app_commands.Group:
    """/group settings [setting] [value] [channel]: everyone sees them, moderators change them."""
    group = app_commands.Group(
        name="group", description=describe(cat, "discord.command.group"), guild_only=True
    )

    @app_commands.describe(
        setting=describe(cat, "discord.option.setting"),
        value=describe(cat, "discord.option.setting_value"),
        channel=describe(cat, "discord.option.setting_channel"),
    )
    @app_commands.autocomplete(
        setting=_settings(declared or {}), value=_values(cat, locales, declared or {})
    )
    async def settings(
        interaction: discord.Interaction,
        setting: app_commands.Range[str, 1, VALUE_LIMIT] | None = None,
        value: app_commands.Range[str, 1, VALUE_LIMIT] | None = None,
        channel: Channel | None = None,
    ) -> None:
        name = (setting or ("modchannel" if channel else "")).strip()
        args = ["settings"]
        if name:
            args.append(name)
            given = channel if channel and name.casefold() == "modchannel" else value
            args += (given or "").split()
        await run(interaction, "group", tuple(args))

    _sub(cat, "settings", "group_settings", settings, group)

    # Discord hides (default permissions) only whole commands, and /group settings is for
    # everyone: audit and terms are shown to all but answered privately, and the core
    # refuses, kindly, anyone who does not moderate (Event.is_moderator).
    async def audit(interaction: discord.Interaction) -> None:
        await run(interaction, "group", ("audit",))

    _sub(cat, "audit", "group_audit", audit, group)

    @app_commands.describe(
        action=describe(cat, "discord.option.terms_action"),
        phrase=describe(cat, "discord.option.terms_phrase"),
    )
    @app_commands.choices(
        action=[
            app_commands.Choice(name=choice_name(cat, f"discord.choice.terms_{a}"), value=a)
            for a in TERMS_ACTIONS
        ]
    )
    async def terms(
        interaction: discord.Interaction,
        action: str | None = None,
        phrase: app_commands.Range[str, 1, PHRASE_LIMIT] | None = None,
    ) -> None:
        words = (phrase or "").split()
        await run(interaction, "group", ("terms", action or "list", *words))

    _sub(cat, "terms", "group_terms", terms, group)
    return group


def volunteer_command(run: RunCommand, cat: Catalog) -> app_commands.Group:
    """/volunteer on|off [group] | quiet <hours> [timezone] | status.

    In a server, on and off are about that server's group: the core answers with a button
    into the private side (answered ephemerally). Quiet hours and the status are the member's
    own, in every group: private wherever they are typed (see `private_everywhere`).
    """
    command = app_commands.Group(name="volunteer", description=describe(cat, "commands.volunteer"))

    def toggle(word: str) -> Callback:
        @app_commands.describe(group=describe(cat, "discord.option.volunteer_group"))
        async def callback(
            interaction: discord.Interaction,
            group: app_commands.Range[int, 1, ID_LIMIT] | None = None,
        ) -> None:
            await run(interaction, "volunteer", (word, str(group)) if group else (word,))

        return callback

    @app_commands.describe(
        hours=describe(cat, "discord.option.quiet_hours"),
        timezone=describe(cat, "discord.option.timezone"),
    )
    @app_commands.autocomplete(timezone=_zones)
    async def quiet(
        interaction: discord.Interaction,
        hours: app_commands.Range[str, 1, VALUE_LIMIT],
        timezone: app_commands.Range[str, 1, ZONE_LIMIT] | None = None,
    ) -> None:
        # "22:00 - 07:00" is read as 22:00-07:00; an empty value gets the core's question.
        typed = "".join(hours.split())
        zone = (timezone or "").strip()
        await run(interaction, "volunteer", tuple(w for w in ("quiet", typed, zone) if w))

    async def status(interaction: discord.Interaction) -> None:
        await run(interaction, "volunteer", ())

    _sub(cat, "on", "volunteer_on", toggle("on"), command)
    _sub(cat, "off", "volunteer_off", toggle("off"), command)
    _sub(cat, "quiet", "volunteer_quiet", quiet, command)
    _sub(cat, "status", "volunteer_status", status, command)
    return command


def remind_command(run: RunCommand, cat: Catalog) -> app_commands.Group:
    """/remind show|set|pause|resume|quiet|off: private, in direct messages as in a server."""
    group = app_commands.Group(name="remind", description=describe(cat, "commands.remind"))

    def plain(words: tuple[str, ...]) -> Callback:
        async def command(interaction: discord.Interaction) -> None:
            await run(interaction, "remind", words)

        return command

    @app_commands.describe(
        time=describe(cat, "discord.option.remind_time"),
        timezone=describe(cat, "discord.option.timezone"),
    )
    @app_commands.autocomplete(timezone=_zones)
    async def set_(
        interaction: discord.Interaction,
        time: app_commands.Range[str, 1, TIME_LIMIT],
        timezone: app_commands.Range[str, 1, ZONE_LIMIT] | None = None,
    ) -> None:
        args = (time.strip(), timezone.strip()) if timezone else (time.strip(),)
        await run(interaction, "remind", args)

    @app_commands.describe(days=describe(cat, "discord.option.quiet_days"))
    async def quiet(
        interaction: discord.Interaction, days: app_commands.Range[str, 1, VALUE_LIMIT]
    ) -> None:
        await run(interaction, "remind", ("quiet", ",".join(days.split()) or "none"))

    _sub(cat, "show", "remind_show", plain(()), group)
    _sub(cat, "set", "remind_set", set_, group)
    _sub(cat, "pause", "remind_pause", plain(("pause",)), group)
    _sub(cat, "resume", "remind_resume", plain(("resume",)), group)
    _sub(cat, "quiet", "remind_quiet", quiet, group)
    _sub(cat, "off", "remind_off", plain(("off",)), group)
    return group


def group_commands(
    run: RunCommand,
    cat: Catalog,
    locales: tuple[str, ...] = ("en",),
    declared: Mapping[str, GroupSetting] | None = None,
) -> dict[str, app_commands.Group]:
    """The slash commands of group check-ins, by core command name. `declared`: the group
    settings the features declare (`app.registry.group_settings`)."""
    return {
        "schedule": schedule_command(run, cat),
        "group": group_command(run, cat, locales, declared),
        "remind": remind_command(run, cat),
        "volunteer": volunteer_command(run, cat),
    }
