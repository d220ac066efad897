"""The Discord adapter: interactions -> core Events, `app.handle`, Replies -> Discord messages.

Nothing here decides what to say: the core does. The bot works from interactions only (slash
commands, buttons, select menus, modals), with minimal intents and no message content;
only with `[discord] read_messages` on does it read servers' messages, for opt-in screening
(see bots/discord_messages.py).

- Every interaction is answered within Discord's 3 seconds: when the core is not done after
  `defer_after`, the answer is deferred and comes as a follow-up. The deferral already shows
  as public or private (Discord gives the first follow-up the placeholder's visibility), so
  it is chosen from the command's scope; a reply unlike it gets a message of its own. When
  the core has nothing to say (a rate-limited command), the interaction is still answered,
  quietly, so nobody sees "The application did not respond".
- Private replies are ephemeral (flag 64), in a server as in direct messages. A private
  command typed in a server runs there, privately (`Event.can_reply_privately_in_place`).
- Whatever discord.py or the network can raise while sending is caught and logged by type.
- Paced steps use the member's latest interaction (its token lives 15 minutes). After that,
  the flow goes on in the member's direct messages with a note; when those are closed, the
  member is told while the window is still open.
- Every message goes out with no mentions allowed, and in pieces of at most 2,000 characters.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import discord
import discord.http
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bots.discord_commands import (
    PLATFORM,
    answered_privately,
    build_commands,
    private_everywhere,
)
from bots.discord_groups import DiscordMembership, GroupPoster, group_commands
from bots.discord_messages import (
    DISALLOWED_INTENTS,
    gateway_intents,
    message_event,
    post_in_channel,
)
from bots.discord_perms import interaction_is_moderator
from bots.discord_render import (
    DYNAMIC_ITEMS,
    TEXT_INPUT_LIMIT,
    Labels,
    TextModal,
    build_views,
    modal_text,
    routed,
    split_text,
)
from bots.discord_shards import Shards
from bots.discord_translator import ContentTranslator
from bots.discord_unpost import DeleteStatus, delete_posted
from bots.runner import AdapterStartError
from core.api import (
    Catalog,
    Config,
    Delivery,
    Event,
    KeyedLocks,
    Reply,
    SendResult,
    Space,
    SpaceKind,
    Unblend,
)

log = logging.getLogger(__name__)

DEFAULT_API = "https://discord.com/api/v10"
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"
TOKEN_LIFETIME = timedelta(minutes=15)
# A paced step later than this moves to direct messages, leaving a minute to say so.
TOKEN_FRESH = timedelta(minutes=14)
NO_MENTIONS = discord.AllowedMentions.none()
IMAGE_NAME = "unblend.png"
MAX_WINDOWS = 5000
RATE_LIMIT_WAIT_MAX = 30.0  # seconds; discord.py's smallest allowed value
# What sending can raise: Discord's refusals and discord.py's own errors (RateLimited,
# InteractionResponded), and the network's (aiohttp errors, resets, timeouts).
SEND_ERRORS = (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError)
# Gateway events about one server, acted on only by the process holding its shard.
HELD_EVENTS = ("INTERACTION_CREATE", "MESSAGE_CREATE")
SHARD_REFUSALS = {
    4010: "Discord refused the shard settings. Check [discord] shard_count (the same in every "
    "process) and shard_ids (each from 0 to shard_count - 1).",
    4011: "Discord asks this bot to use shards (it is in too many servers for one connection). "
    "Set [discord] shard_count, e.g. shard_count = 2, and see docs/scaling.md.",
}


@dataclass(frozen=True)
class DiscordSettings:
    token: str
    api_base_url: str = ""  # e.g. a nirn-proxy; empty: Discord's own API
    gateway_url: str = ""
    dev_guild_id: int = 0  # sync commands to this server only (fast, for testing)
    moderator_role: int = 0
    # Read servers' messages for groups that opted in to screening (Message Content intent).
    read_messages: bool = False
    defer_after: float = 2.0  # seconds before an unfinished answer is deferred (limit: 3)
    guild_ready_timeout: float = 2.0
    start_timeout: float = 60.0
    # The shards this process connects (issue 17); by default one connection for everything.
    shards: Shards = field(default_factory=Shards)
    # Seconds between two shards' IDENTIFY in one process: Discord allows one in 5 seconds.
    identify_gap: float = 5.0


class DiscordStartError(AdapterStartError):
    pass


@dataclass
class _Window:
    """A member's latest interaction: its token lets the bot answer them for 15 minutes."""

    interaction: discord.Interaction
    opened: datetime
    # A deferred command's "thinking" placeholder while no reply has taken it over: whether
    # it is ephemeral (None: there is none). The first follow-up becomes that placeholder,
    # keeping its visibility whatever the follow-up asks for.
    placeholder: bool | None = None

    @property
    def in_dm(self) -> bool:
        return self.interaction.guild_id is None


@dataclass
class _Sent:
    """The last message sent to a member, so a paced step can replace it."""

    message_id: int
    key: str
    window: _Window | None  # sent through this interaction's token
    channel: discord.DMChannel | None  # or as a direct message
    original: bool = False


_Target = _Window | discord.DMChannel


class UnblendClient(discord.Client):
    def __init__(self, adapter: DiscordAdapter, settings: DiscordSettings) -> None:
        shards = settings.shards
        # discord.AutoShardedClient's: this process's shards, out of how many in all.
        sharding: dict[str, Any] = (
            {"shard_count": shards.count, "shard_ids": list(shards.held)} if shards.sharded else {}
        )
        super().__init__(
            # Servers and channels; no members; messages and their text only when asked.
            intents=gateway_intents(settings.read_messages),
            # No cache of what members wrote: a read message is handled, then forgotten.
            max_messages=None,
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=settings.guild_ready_timeout,
            # A longer 429 comes back to the outbox as "retry later" rather than a long sleep.
            max_ratelimit_timeout=RATE_LIMIT_WAIT_MAX,
            **sharding,
        )
        self.unblend_handler = adapter
        self.tree = app_commands.CommandTree(self)
        self.ready_event = asyncio.Event()
        self.shard_plan = shards
        self.identify_gap = settings.identify_gap
        self._shards_up: set[int] = set()
        if shards.sharded:
            parsers = self._connection.parsers
            for name in HELD_EVENTS:
                parsers[name] = self._held_only(parsers[name])

    def _held_only(self, parse: Callable[[Any], None]) -> Callable[[Any], None]:
        """Events of a server another process's shard holds (sent here by mistake, or forged)
        are dropped before discord.py reads them: that process answers them, once."""

        def held(data: Any) -> None:
            if self._holds(data):
                parse(data)
            else:
                log.warning("Discord: an event for a shard this process does not hold; left alone")

        return held

    def _holds(self, data: Any) -> bool:
        guild = data.get("guild_id") if isinstance(data, dict) else None
        if guild is None:
            return self.shard_plan.holds_direct()  # a direct message: shard 0's
        text = str(guild)  # an odd id is nobody's: fail closed
        return text.isascii() and text.isdigit() and self.shard_plan.holds_guild(int(text))

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(self.identify_gap)

    async def setup_hook(self) -> None:
        # Registered before any interaction: every old button is routed from its custom_id.
        self.add_dynamic_items(*DYNAMIC_ITEMS)

    async def on_ready(self) -> None:
        self.ready_event.set()

    # discord.py's on_ready waits guild_ready_timeout after the last guild, even when none is
    # missing. Ready sooner: once READY came and every guild it listed has arrived. Checked
    # as events are dispatched (no task per event), so nothing is left pending at close.
    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        if self.is_closed():
            # discord.py's delayed "ready" may still fire after a quick stop; nothing to run.
            return
        super().dispatch(event, *args, **kwargs)
        if event == "shard_connect" and args:
            self._shards_up.add(args[0])
        if event in ("connect", "shard_connect", "guild_available", "guild_join"):
            self._ready_if_every_guild_arrived()

    def _ready_if_every_guild_arrived(self) -> None:
        every_shard = self._shards_up.issuperset(self.shard_plan.held)
        if self.user is not None and every_shard and not any(g.unavailable for g in self.guilds):
            self.ready_event.set()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.unblend_handler.on_interaction(interaction)

    async def on_message(self, message: discord.Message) -> None:
        await self.unblend_handler.on_message(message)


class ShardedClient(UnblendClient, discord.AutoShardedClient):
    """Some of the bot's shards, in one process (`[discord] shard_count`, `shard_ids`)."""


class DiscordAdapter:
    name = "Discord"

    def __init__(self, app: Unblend, settings: DiscordSettings) -> None:
        self.app = app
        self.settings = settings
        sharded = settings.shards.sharded
        self.client = (ShardedClient if sharded else UnblendClient)(self, settings)
        own = group_commands(
            self._on_command,
            app.library.catalog(),
            app.languages.shipped,
            app.registry.group_settings,
        )
        for command in build_commands(app, self._on_command, own):
            self.client.tree.add_command(command)
        self.client.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self.synced: list[app_commands.AppCommand] = []
        self._locks = KeyedLocks()
        self._windows: dict[str, _Window] = {}
        self._sent: dict[str, _Sent] = {}
        self._moved: set[str] = set()
        self._busy: set[asyncio.Task[Any]] = set()
        self._connection: asyncio.Task[None] | None = None
        self.labels = labels_of(app.library.catalog())
        self._groups = GroupPoster(self.client, app.languages.catalog, self.labels)

    # -- start and stop ---------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        # Module-wide in discord.py; one process runs one Discord bot.
        discord.http.Route.BASE = s.api_base_url.rstrip("/") or DEFAULT_API
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(s.gateway_url or DEFAULT_GATEWAY)
        try:
            await self.client.login(s.token)
        except discord.LoginFailure:
            await self.client.close()
            raise DiscordStartError(
                "Discord did not accept the bot token. Copy it again from the Developer Portal "
                "(your application -> Bot -> Reset Token) into [discord] token or "
                "UNBLEND_DISCORD_TOKEN, exactly as given."
            ) from None
        except (aiohttp.ClientError, OSError, discord.HTTPException) as exc:
            await self.client.close()
            where = urlsplit(discord.http.Route.BASE).netloc
            raise DiscordStartError(
                f"could not reach the Discord API at {where} ({type(exc).__name__}). Check the "
                "network, or [discord] api_base_url if you use a REST proxy."
            ) from None
        self._connection = asyncio.create_task(self.client.connect(reconnect=True))
        self._connection.add_done_callback(self._connection_ended)
        ready = asyncio.create_task(self.client.ready_event.wait())
        await asyncio.wait(
            {self._connection, ready}, timeout=s.start_timeout, return_when="FIRST_COMPLETED"
        )
        if not ready.done():
            ready.cancel()
            failed = self._connection.done() and self._connection.exception()
            reason = type(failed).__name__ if failed else "no READY in time"
            await self.stop()
            if isinstance(failed, discord.PrivilegedIntentsRequired):
                raise DiscordStartError(DISALLOWED_INTENTS)
            if isinstance(failed, discord.ConnectionClosed) and failed.code in SHARD_REFUSALS:
                raise DiscordStartError(SHARD_REFUSALS[failed.code])
            raise DiscordStartError(
                f"could not connect to the Discord gateway at {DiscordWebSocket.DEFAULT_GATEWAY} "
                f"({reason}). Check the network, or [discord] gateway_url."
            )
        self.app.outbound.register(PLATFORM, self)
        self.app.membership.register(PLATFORM, DiscordMembership(self.client))
        # Descriptions, options and choices in every shipped language (issue 16).
        await self.client.tree.set_translator(ContentTranslator(self.app.languages))
        if self.settings.shards.holds_direct():  # one process syncs: shard 0's
            await self._sync_commands()
        user = self.client.user
        log.info("Discord: running as %s", user.name if user else "?")
        shards = self.settings.shards
        if shards.sharded:
            held = ", ".join(str(i) for i in shards.held)
            log.info("Discord: shards %s of %d in this process", held, shards.count)

    def is_connected(self) -> bool:
        """For the health check: logged in, READY, and the gateway open."""
        return self.client.ready_event.is_set() and not self.client.is_closed()

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        if isinstance(task.exception(), discord.PrivilegedIntentsRequired):
            if not self.client.ready_event.is_set():
                return  # at start: `start` says so, as its one clear error
            # The switch in the Developer Portal was turned off while the bot was running.
            log.error("Discord: the gateway connection ended. %s", DISALLOWED_INTENTS)
        elif not self.client.is_closed():
            # discord.py reconnects by itself; this is what it could not recover from.
            log.error("Discord: the gateway connection ended (%s)", type(task.exception()).__name__)

    async def _sync_commands(self) -> None:
        tree = self.client.tree
        try:
            if self.settings.dev_guild_id:
                guild = discord.Object(self.settings.dev_guild_id)
                tree.copy_global_to(guild=guild)
                self.synced = await tree.sync(guild=guild)
            else:
                self.synced = await tree.sync()
        except SEND_ERRORS as exc:
            log.warning("Discord: syncing slash commands failed (%s)", type(exc).__name__)

    async def stop(self) -> None:
        """Finishes the interactions in flight, then closes the gateway and the HTTP session."""
        if self._busy:
            await asyncio.wait(self._busy, timeout=10)
        await self.client.close()
        if self._connection is not None:
            try:
                await asyncio.wait_for(self._connection, 10)
            except Exception as exc:  # the connection's own ending; nothing left to do
                log.debug("Discord: connection ended (%s)", type(exc).__name__)

    # -- in: interactions to events -----------------------------------------------------------

    def _event(self, interaction: discord.Interaction, **what: object) -> Event:
        user_id = str(interaction.user.id)
        # The member's app language, as Discord gives it ("es-419"): the core maps it.
        locale = str(interaction.locale.value)
        return Event(
            PLATFORM,
            user_id,
            what.pop("space", Space.private(user_id)),  # type: ignore[arg-type]
            locale=locale,
            # The server nickname where there is one: a shared line shows under it.
            display_name=interaction.user.display_name,
            is_moderator=interaction_is_moderator(interaction, self.settings.moderator_role),
            # An ephemeral answer is possible wherever an interaction comes from: the core runs
            # a private command typed in a server right there, privately. The difference from
            # Telegram is the platform's, so it is this one fact, and the core decides.
            can_reply_privately_in_place=True,
            from_group=str(interaction.guild_id or ""),
            **what,  # type: ignore[arg-type]
        )

    async def _on_command(
        self, interaction: discord.Interaction, name: str, args: tuple[str, ...]
    ) -> None:
        # A server is the group (its check-ins name their channels); /remind is private anywhere.
        in_server = interaction.guild_id is not None
        declared = self.app.registry.declared
        in_group = in_server and not private_everywhere(declared, name, args)
        space = (
            Space.group(str(interaction.guild_id))
            if in_group
            else Space.private(str(interaction.user.id))
        )
        only_them = in_server and answered_privately(declared, name, args)
        await self._respond(
            interaction,
            self._event(interaction, space=space, command=name, args=args),
            only_them=only_them,
            public=in_group and not only_them and self.app.registry.public_in_group(name),
        )

    async def on_choice(self, interaction: discord.Interaction, choice_id: str) -> None:
        await self._respond(interaction, self._event(interaction, choice=choice_id))

    async def on_open(self, interaction: discord.Interaction, command: str) -> None:
        # `Reply.private_link`: the command, privately (like Telegram's /start <payload>).
        await self._respond(interaction, self._event(interaction, command="start", args=(command,)))

    async def on_write(self, interaction: discord.Interaction, limit: int) -> None:
        cat = await self._catalog(interaction)
        modal = TextModal(
            cat.text("discord.modal_title"),
            cat.text("discord.modal_label"),
            limit or TEXT_INPUT_LIMIT,
        )
        try:
            await interaction.response.send_modal(modal)
        except SEND_ERRORS as exc:
            log.error("Discord: opening a form failed (%s)", type(exc).__name__)
            await self.acknowledge(interaction)

    async def _catalog(self, interaction: discord.Interaction) -> Catalog:
        """The member's language for what the adapter says itself; English if it can't tell."""
        return await self._catalog_after(self._event(interaction))

    async def _catalog_after(self, event: Event) -> Catalog:
        try:
            return await self.app.catalog_for(event)
        except Exception as exc:  # the database, say: an error message still goes out
            log.warning("Discord: the member's language is unknown (%s)", type(exc).__name__)
            return self.app.library.catalog()

    async def acknowledge(self, interaction: discord.Interaction) -> None:
        """Answers, quietly, an interaction with nothing to show (a select with no value, an
        id nothing of ours knows, a form that would not open)."""
        await self._settle(_Window(interaction, self.app.clock.now()))

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        # Commands and components are routed by the tree and the dynamic items; modal
        # submissions come here, so a form opened before a restart still arrives.
        if interaction.type is discord.InteractionType.component:
            if not routed(interaction):
                await self.acknowledge(interaction)  # a stray or forged id still gets an answer
            return
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        text = modal_text(interaction.data)
        if text is not None:
            await self._respond(interaction, self._event(interaction, text=text))
        else:
            await self.acknowledge(interaction)

    async def on_message(self, message: discord.Message) -> None:
        """A member's ordinary message in a server (`read_messages` on): to the core as text.
        The core reads it only where the group turned screening on; nothing of it is logged."""
        if not self.settings.read_messages:
            return
        own = self.client.user
        event = message_event(message, own.id if own else None)
        if event is None:
            return
        task = asyncio.current_task()
        if task is not None:
            self._busy.add(task)
        try:
            replies = await self.app.handle(event)
            if replies:
                async with self._locks.hold(event.user_id):
                    for reply in replies:
                        await self._screened_reply(event.user_id, message.channel.id, reply)
        finally:
            if task is not None:
                self._busy.discard(task)

    async def _screened_reply(self, user_id: str, channel_id: int, reply: Reply) -> None:
        """A private reply as a direct message; if the member's direct messages are closed, the
        reply's group fallback (never their words) in the channel the message came from."""
        try:
            if not reply.private:
                await post_in_channel(self.client, channel_id, reply)
                return
            try:
                channel = await self.client.create_dm(discord.Object(int(user_id)))
                await self._deliver(user_id, channel, reply, False, strict=True)
            except SEND_ERRORS as exc:
                # Closed direct messages, or Discord or the network failing just now: either
                # way the member was not reached, so the group sees the fallback lines.
                code = f", code {exc.code}" if isinstance(exc, discord.HTTPException) else ""
                kind = type(exc).__name__
                log.warning("Discord: a private reply was refused or lost (%s%s)", kind, code)
                if reply.group_fallback is not None:
                    await post_in_channel(self.client, channel_id, reply.group_fallback)
        except SEND_ERRORS as exc:
            log.error("Discord: answering a server message failed (%s)", type(exc).__name__)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        cat = await self._catalog(interaction)
        if isinstance(error, app_commands.CheckFailure):
            text = cat.text("discord.not_moderator")
        else:
            log.error("Discord: a command failed (%s)", type(error).__name__)
            text = cat.text("error.internal")
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(
                    text, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
        except SEND_ERRORS as exc:
            log.error("Discord: answering an error failed (%s)", type(exc).__name__)

    # -- out: replies to messages -------------------------------------------------------------

    async def _respond(
        self,
        interaction: discord.Interaction,
        event: Event,
        only_them: bool = False,
        public: bool = False,
    ) -> None:
        """`public`: the answer to come is for the channel (a deferral shows it so)."""
        task = asyncio.current_task()
        if task is not None:
            self._busy.add(task)
        try:
            work = asyncio.ensure_future(self.app.handle(event))
            done, _ = await asyncio.wait({work}, timeout=self.settings.defer_after)
            placeholder = None if done else await self._defer(interaction, public)
            replies = await work
            if only_them:  # every answer ephemeral, the core's public lines included
                replies = [replace(r, private=True) for r in replies]
            # The words the adapter adds (a form's button), in the member's language as it is
            # now: the answer may have just changed it (/language).
            labels = labels_of(await self._catalog_after(event))
            async with self._locks.hold(event.user_id):
                window = _Window(interaction, self.app.clock.now(), placeholder)
                self._windows[event.user_id] = window
                if len(self._windows) > MAX_WINDOWS:
                    self._forget_closed(window.opened)
                self._moved.discard(event.user_id)
                in_group = event.space.kind is SpaceKind.GROUP
                try:
                    for reply in replies:
                        await self._deliver(event.user_id, window, reply, in_group, labels)
                finally:
                    await self._settle(window)
        finally:
            if task is not None:
                self._busy.discard(task)

    def _forget_closed(self, now: datetime) -> None:
        """Drops what is kept for members whose 15 minutes are over (memory stays bounded)."""
        for user_id in [u for u, w in self._windows.items() if now - w.opened >= TOKEN_LIFETIME]:
            del self._windows[user_id]
            self._sent.pop(user_id, None)
            self._moved.discard(user_id)

    async def _defer(self, interaction: discord.Interaction, public: bool) -> bool | None:
        """Answers "later" in time; for a command, the placeholder's visibility (ephemeral?).
        A tap or a form is acknowledged without one: its replies come as messages of their own.
        """
        try:
            if interaction.type is discord.InteractionType.application_command:
                await interaction.response.defer(ephemeral=not public, thinking=True)
                return not public
            await interaction.response.defer()
        except SEND_ERRORS as exc:
            log.error("Discord: deferring an answer failed (%s)", type(exc).__name__)
        return None

    async def _settle(self, window: _Window) -> None:
        """Leaves no interaction unanswered and no placeholder "thinking": when the core said
        nothing (a rate-limited command) or every reply failed, the interaction is answered
        quietly (a tap: acknowledged; a command: a private placeholder, removed at once)."""
        interaction = window.interaction
        try:
            if not interaction.response.is_done():
                if interaction.type is discord.InteractionType.application_command:
                    await interaction.response.defer(ephemeral=True, thinking=True)
                    await interaction.delete_original_response()
                else:
                    await interaction.response.defer()
            elif window.placeholder is not None:
                window.placeholder = None
                await interaction.delete_original_response()
        except SEND_ERRORS as exc:
            log.error("Discord: answering an interaction failed (%s)", type(exc).__name__)

    @property
    def role_name(self) -> str:
        """The role this adapter runs as when several bots share a database (bots/roles.py)."""
        return self.settings.shards.role

    @property
    def sends_alone(self) -> bool:
        """Whether its sender is the platform's only one (not sharded): one that starts may then
        take over what a sender that died had claimed."""
        return not self.settings.shards.sharded

    @property
    def rate_share(self) -> float:
        return self.settings.shards.share

    def holds(self, delivery: Delivery) -> bool:
        """Outbox hook (issue 17): what this process's shards hold; the rest is another's."""
        return self.settings.shards.holds(delivery)

    async def post(self, delivery: Delivery) -> SendResult:
        """Outbox port (issue 6): a group's prompt, a shared line in the day's thread, a
        summary, a reminder in direct messages. See bots/discord_groups.py."""
        return await self._groups.post(delivery)

    async def send(self, platform: str, user_id: str, replies: list[Reply]) -> None:
        """Outbound port: paced steps, through the latest interaction or in direct messages."""
        async with self._locks.hold(user_id):
            now = self.app.clock.now()
            window = self._windows.get(user_id)
            cat = await self.app.member_catalog(PLATFORM, user_id)
            labels = labels_of(cat)
            if window is not None and now - window.opened < TOKEN_FRESH:
                for reply in replies:
                    await self._deliver(user_id, window, reply, False, labels)
                return
            try:
                channel = await self.client.create_dm(discord.Object(int(user_id)))
                notes = []
                if user_id not in self._moved and not (window and window.in_dm):
                    notes.append(Reply(cat.text("discord.moved_to_dm")))
                for reply in [*notes, *replies]:
                    await self._deliver(user_id, channel, reply, False, labels, strict=True)
                self._moved.add(user_id)
            except discord.Forbidden:
                log.warning("Discord: a paced message was refused (direct messages closed)")
                if window is not None and now - window.opened < TOKEN_LIFETIME:
                    for reply in [Reply(cat.text("discord.dm_closed")), *replies]:
                        await self._deliver(user_id, window, reply, False, labels)
            except SEND_ERRORS as exc:
                log.error("Discord: a paced message failed (%s)", type(exc).__name__)

    async def _deliver(
        self,
        user_id: str,
        target: _Target,
        reply: Reply,
        in_group: bool,
        labels: Labels | None = None,
        strict: bool = False,
    ) -> None:
        """Sends one reply; a refusal is logged (by type only), or raised when `strict`."""
        try:
            await self._send(user_id, target, reply, in_group, labels or self.labels)
        except SEND_ERRORS as exc:
            if strict:
                raise
            status = getattr(exc, "status", "-")
            log.error("Discord: sending a reply failed (%s, %s)", type(exc).__name__, status)

    async def _send(
        self, user_id: str, target: _Target, reply: Reply, in_group: bool, labels: Labels
    ) -> None:
        pieces = split_text(reply.text)
        if reply.image is None and reply.file is None and not pieces:
            raise ValueError("a reply with neither text nor image nor file")
        write = (reply.text_max or TEXT_INPUT_LIMIT) if reply.expects_text else 0
        link = reply.private_link if in_group else ""
        if reply.meta.get("link_label"):  # the core's label, in the language of the reply
            labels = replace(labels, open=reply.meta["link_label"])
        views = build_views(reply.choices, labels, write, link)
        view = views[0] if views else None
        last = self._sent.get(user_id)
        if (
            reply.replace_key
            and last is not None
            and last.key == reply.replace_key
            and len(pieces) == 1
            and len(views) <= 1
            and reply.image is None
            and reply.file is None
            and await self._edit(last, pieces[0], view)
        ):
            return
        # A private reply is ephemeral; in a server, private=False is for the channel.
        ephemeral = reply.private or not in_group
        sent: _Sent | None = None
        for i, piece in enumerate(pieces or [None]):
            final = i == max(len(pieces), 1) - 1
            files = _attachments(reply) if final else []
            sent = await self._post(target, piece, view if final else None, files, ephemeral)
        for more in views[1:]:  # choices beyond one message's room, right after it
            sent = await self._post(target, labels.more, more, [], ephemeral)
        if sent is not None:
            sent.key = reply.replace_key
            self._sent[user_id] = sent

    async def _post(
        self,
        target: _Target,
        content: str | None,
        view: discord.ui.View | None,
        files: list[discord.File],
        ephemeral: bool,
    ) -> _Sent:
        missing = discord.utils.MISSING
        shown = view if view is not None else missing
        attached = files or missing
        if isinstance(target, discord.DMChannel):
            message = await target.send(
                content, view=shown, files=attached, allowed_mentions=NO_MENTIONS
            )
            return _Sent(message.id, "", None, target)
        interaction = target.interaction
        if target.placeholder is not None and target.placeholder != ephemeral:
            # The placeholder would give this reply its own visibility: it goes, and the
            # reply comes as a message of its own, as private or public as it is meant.
            target.placeholder = None
            await interaction.delete_original_response()
        if not interaction.response.is_done():
            response = await interaction.response.send_message(
                content,
                view=shown,
                files=attached,
                ephemeral=ephemeral,
                allowed_mentions=NO_MENTIONS,
            )
            return _Sent(response.message_id or 0, "", target, None, original=True)
        followup = await interaction.followup.send(
            content or missing,
            view=shown,
            files=attached,
            ephemeral=ephemeral,
            allowed_mentions=NO_MENTIONS,
            wait=True,
        )
        target.placeholder = None  # taken over by this reply, if it was still there
        return _Sent(followup.id, "", target, None)

    async def _edit(self, last: _Sent, content: str, view: discord.ui.View | None) -> bool:
        """Replaces a paced message in place; False when it can't be (then a new one is sent)."""
        try:
            if last.channel is not None:
                message = last.channel.get_partial_message(last.message_id)
                await message.edit(content=content, view=view, allowed_mentions=NO_MENTIONS)
                return True
            window = last.window
            if window is None or self.app.clock.now() - window.opened >= TOKEN_FRESH:
                return False
            if last.original:
                await window.interaction.edit_original_response(
                    content=content, view=view, allowed_mentions=NO_MENTIONS
                )
            else:
                await window.interaction.followup.edit_message(
                    last.message_id, content=content, view=view, allowed_mentions=NO_MENTIONS
                )
            return True
        except SEND_ERRORS as exc:
            log.info("Discord: editing a paced message failed (%s)", type(exc).__name__)
            return False

    # -- Unposter (issue 7, brief H4): /forget takes a member's shared lines back out ---------

    delete_window: timedelta | None = None  # a bot may delete its own messages at any age

    async def delete(
        self, platform: str, target: str, message_ref: str, thread: str = ""
    ) -> DeleteStatus:
        """`message_ref` is `<channel id>/<message id>`, as the outbox's post gave it."""
        return await delete_posted(self.client.http, message_ref)


def labels_of(cat: Catalog) -> Labels:
    """The words the adapter adds itself (a form's button, "more choices"), in `cat`'s language."""
    return Labels(
        cat.text("discord.write_button"),
        cat.text("discord.more_choices"),
        cat.text("groups.open_button"),
    )


def _attachments(reply: Reply) -> list[discord.File]:
    """A chart (with its alt text) and a member's own file (their /export), if any."""
    files = []
    if reply.image is not None:
        alt = reply.image_alt[:1024] or None
        files.append(discord.File(io.BytesIO(reply.image), IMAGE_NAME, description=alt))
    if reply.file is not None:
        files.append(discord.File(io.BytesIO(reply.file), reply.file_name or "unblend.txt"))
    return files


def discord_settings(config: Config) -> DiscordSettings:
    return DiscordSettings(
        token=config.discord_token,
        api_base_url=str(config.get("discord", "api_base_url")),
        gateway_url=str(config.get("discord", "gateway_url")),
        dev_guild_id=int(config.get("discord", "dev_guild_id")),
        moderator_role=int(config.get("discord", "moderator_role")),
        read_messages=bool(config.get("discord", "read_messages")),
        shards=Shards(
            int(config.get("discord", "shard_count")),
            tuple(int(i) for i in config.get("discord", "shard_ids")),
        ),
    )
