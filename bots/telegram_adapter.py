"""The Telegram adapter: Update -> core Event, `app.handle`, Reply -> Bot API calls.

Nothing here decides what to say: the core does. This module only translates, keeps
Telegram's limits (telegram_limits) and renders (telegram_render).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bots.runner import AdapterStartError
from bots.telegram_groups import (
    DELETE_WINDOW,
    AdminCache,
    TelegramMembership,
    delete_posted,
    post_delivery,
)
from bots.telegram_limits import TelegramLimiter
from bots.telegram_render import CAPTION_LIMIT, deep_link, escape, keyboard, split_text, tg_len
from core.api import (
    Config,
    DeleteStatus,
    Delivery,
    Event,
    KeyedLocks,
    MenuScope,
    Reply,
    SendResult,
    Space,
    SpaceKind,
    Unblend,
    command_menu,
)

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
MENU_SCOPES = (
    (MenuScope.PRIVATE, BotCommandScopeAllPrivateChats()),
    (MenuScope.GROUP, BotCommandScopeAllGroupChats()),
    (MenuScope.GROUP_ADMIN, BotCommandScopeAllChatAdministrators()),
)


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    base_url: str = ""  # e.g. "http://127.0.0.1:8081/bot"; empty: the public Bot API
    webhook_url: str = ""  # set: webhook mode; empty: polling
    webhook_listen: str = "0.0.0.0:8443"
    webhook_path: str = ""
    webhook_secret: str = ""
    poll_timeout: int = 10  # seconds a long poll waits for updates


class TelegramStartError(AdapterStartError):
    pass


class TelegramAdapter:
    name = "Telegram"

    def __init__(
        self, app: Unblend, settings: TelegramSettings, limiter: TelegramLimiter | None = None
    ) -> None:
        self.app = app
        self.settings = settings
        builder = (
            ApplicationBuilder()
            .token(settings.token)
            .rate_limiter(limiter or TelegramLimiter())
            .job_queue(None)
            # Members are handled side by side; each member's updates stay in order (_locks).
            .concurrent_updates(64)
        )
        if settings.base_url:
            base = settings.base_url.rstrip("/")
            builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
        self.tg: Application = builder.build()  # type: ignore[type-arg]
        self.tg.add_handler(MessageHandler(filters.TEXT | filters.COMMAND, self._on_message))
        self.tg.add_handler(CallbackQueryHandler(self._on_callback))
        self.tg.add_error_handler(self._on_error)
        self._locks = KeyedLocks()
        # The last message the bot sent to each chat: a paced step may be edited in place.
        self._last: OrderedDict[int, tuple[int, str]] = OrderedDict()
        self.username = ""
        self._admins = AdminCache()  # who moderates a group's check-ins (issue 6)
        # False: `start()` does not fetch updates; bots/roles.py calls `start_receiving()` in
        # the one process of several that holds the role.
        self.receive_on_start = True
        self.receives = False

    # -- start and stop ---------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.tg.initialize()
        except InvalidToken:
            # PTB's own message repeats the token: it is never shown.
            raise TelegramStartError(
                "Telegram did not accept the bot token. Copy it again from @BotFather "
                "(/mybots -> your bot -> API Token) into [telegram] token or "
                "UNBLEND_TELEGRAM_TOKEN, exactly as given."
            ) from None
        except NetworkError as exc:
            where = urlsplit(self.settings.base_url).netloc or "api.telegram.org"
            reason = str(exc).replace(self.settings.token, "<token>")
            raise TelegramStartError(
                f"could not reach the Telegram Bot API at {where} ({reason}). Check the "
                "network, or [telegram] base_url if you use a local Bot API server."
            ) from None
        self.username = self.tg.bot.username
        self.app.outbound.register(PLATFORM, self)
        self.app.membership.register(PLATFORM, TelegramMembership(self.tg.bot))
        await self._set_commands()
        if self.receive_on_start:
            await self.start_receiving()
        await self.tg.start()
        log.info("Telegram: running as @%s", self.username)

    async def start_receiving(self) -> None:
        """Fetches updates (long polling, or the webhook). Telegram lets one client at a time
        do so: with several processes, whichever holds the role (bots/roles.py)."""
        self.receives = True
        if self.settings.webhook_url:
            await self._start_webhook()
        else:
            await self.tg.updater.start_polling(  # type: ignore[union-attr]
                timeout=self.settings.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=3,
            )

    async def stop_receiving(self) -> None:
        """Stops fetching updates; those fetched already are still handled."""
        self.receives = False
        if self.tg.updater is not None and self.tg.updater.running:
            await self.tg.updater.stop()

    async def _start_webhook(self) -> None:
        s = self.settings
        if not s.webhook_secret:
            raise TelegramStartError(
                "[telegram] webhook_url is set but webhook_secret is not: add a secret of "
                "letters, digits, _ or - (or set UNBLEND_TELEGRAM_WEBHOOK_SECRET)."
            )
        host, _, port = s.webhook_listen.rpartition(":")
        path = s.webhook_path or urlsplit(s.webhook_url).path
        await self.tg.updater.start_webhook(  # type: ignore[union-attr]
            listen=host or "0.0.0.0",
            port=int(port),
            url_path=path.lstrip("/"),
            webhook_url=s.webhook_url,
            secret_token=s.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=3,
        )

    def is_connected(self) -> bool:
        """For /healthz: the application runs and takes updates (polling or webhook), unless
        another process takes them (bots/roles.py)."""
        receiving = self.tg.updater is not None and self.tg.updater.running
        return self.tg.running and (receiving or not self.receives)

    async def stop(self) -> None:
        """Stops fetching, finishes every update in flight, then closes the connection."""
        if self.tg.updater is not None and self.tg.updater.running:
            await self.tg.updater.stop()
        if self.tg.running:
            await self.tg.stop()
        await self.tg.shutdown()

    async def _set_commands(self) -> None:
        """The command menu for each kind of chat: in English for everyone, and in each other
        shipped language for members whose Telegram is set to it (issue 16)."""
        declared = self.app.registry.declared
        for locale, language_code in menu_languages(self.app.languages.shipped):
            catalog = self.app.languages.catalog(locale)
            for scope, tg_scope in MENU_SCOPES:
                menu = [BotCommand(n, d) for n, d in command_menu(catalog, declared, scope)]
                try:
                    if language_code:
                        await self.tg.bot.set_my_commands(
                            menu, scope=tg_scope, language_code=language_code
                        )
                    else:
                        await self.tg.bot.set_my_commands(menu, scope=tg_scope)
                except TelegramError as exc:
                    log.warning("Telegram: setMyCommands failed (%s)", type(exc).__name__)

    # -- in: updates to events --------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if msg is None or user is None or chat is None or user.is_bot or msg.text is None:
            return
        private = chat.type == ChatType.PRIVATE
        if not private and chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
            return
        space = Space.private(str(chat.id)) if private else Space.group(str(chat.id))
        base = {"platform": PLATFORM, "user_id": str(user.id), "space": space}
        # The member's language as Telegram gives it: untrusted, mapped by the core.
        base["locale"] = user.language_code or ""
        base["display_name"] = user.first_name
        first = msg.entities[0] if msg.entities else None
        if first is not None and first.type == MessageEntityType.BOT_COMMAND and not first.offset:
            word = msg.parse_entity(first)
            name, _, target = word.partition("@")
            if target and target.casefold() != self.username.casefold():
                return  # a command for another bot in the group
            args = tuple(msg.text[len(word) :].split())
            if not private:
                admins, now = self._admins, self.app.clock.now()
                rights = await admins.is_admin(self.tg.bot, chat.id, user.id, now)
                base["is_moderator"] = rights is True
                base["moderator_unknown"] = rights is None
            event = Event(**base, command=name, args=args)  # type: ignore[arg-type]
        else:
            event = Event(**base, text=msg.text)  # type: ignore[arg-type]
        if private:
            # The member wrote: a paced message is no longer the last one, so no edit.
            self._last.pop(chat.id, None)
        await self._answer(event, msg)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()  # stops the button's spinner
        except TelegramError as exc:
            log.info("Telegram: answerCallbackQuery failed (%s)", type(exc).__name__)
        chat = query.message.chat if query.message else None
        if query.data is None or chat is None or chat.type != ChatType.PRIVATE:
            return
        space = Space.private(str(chat.id))
        who = query.from_user
        event = Event(
            PLATFORM,
            str(who.id),
            space,
            choice=query.data,
            locale=who.language_code or "",
            display_name=who.first_name,
        )
        await self._answer(event, None)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The type only: an update holds what a member wrote.
        log.error("Telegram: handling an update failed (%s)", type(context.error).__name__)

    # -- out: replies to messages -------------------------------------------------------------

    async def _answer(self, event: Event, origin: Message | None) -> None:
        async with self._locks.hold(event.user_id):
            replies = await self.app.handle(event)
            for reply in replies:
                await self._deliver(event, reply, origin)

    async def _deliver(self, event: Event, reply: Reply, origin: Message | None) -> None:
        in_group = event.space.kind is SpaceKind.GROUP
        if not reply.private and in_group:
            await self._send(int(event.space.id), reply, origin)
            return
        try:
            await self._send(int(event.user_id), reply, None)
        except Forbidden:
            log.warning("Telegram: a private reply was refused (bot blocked or never started)")
            if in_group and reply.group_fallback is not None:
                await self._send(int(event.space.id), reply.group_fallback, origin)

    async def send(self, platform: str, user_id: str, replies: list[Reply]) -> None:
        """Outbound port: paced steps and other sends no member event asked for."""
        async with self._locks.hold(user_id):
            for reply in replies:
                try:
                    await self._send(int(user_id), reply, None)
                except Forbidden:
                    log.warning("Telegram: a paced message was refused (bot blocked)")
                except TelegramError as exc:
                    log.error("Telegram: a paced message failed (%s)", type(exc).__name__)

    async def post(self, delivery: Delivery) -> SendResult:
        """Outbox port: a group's prompt, a shared line, a summary, a reminder (issue 6)."""
        catalog = self.app.languages.catalog(delivery.reply.meta.get("locale"))
        return await post_delivery(self.tg.bot, self.username, catalog, delivery)

    # Unposter (issue 7): /forget takes a member's shared lines back out of their groups.
    delete_window: timedelta | None = DELETE_WINDOW

    async def delete(
        self, platform: str, target: str, message_ref: str, thread: str = ""
    ) -> DeleteStatus:
        return await delete_posted(self.tg.bot, target, message_ref)

    async def _send(self, chat_id: int, reply: Reply, origin: Message | None) -> None:
        link = None
        if reply.private_link:
            label = reply.meta.get("link_label") or self.app.library.catalog().text(
                "groups.open_button"
            )
            link = (label, deep_link(self.username, reply.private_link))
        markup = keyboard(reply.choices, link)
        pieces = [escape(p) for p in split_text(reply.text)]
        if reply.image is None and reply.file is None and not pieces:
            raise ValueError("a reply with neither text nor image nor file")
        last = self._last.get(chat_id)
        editable = (
            last is not None
            and reply.replace_key == last[1] != ""
            and len(pieces) == 1
            and reply.image is None
            and reply.file is None
        )
        if editable and last and await self._edit(chat_id, last[0], pieces[0], markup):
            return
        quote = (
            ReplyParameters(origin.message_id, allow_sending_without_reply=True)
            if origin is not None
            else None
        )
        caption = None
        if reply.image is not None and tg_len(reply.text) <= CAPTION_LIMIT:
            # A short text rides along as the photo's caption; with none, the alt text does.
            shown = reply.text if reply.text.strip() else reply.image_alt[:CAPTION_LIMIT]
            pieces, caption = [], escape(shown) or None
        sent: Message | None = None
        for i, piece in enumerate(pieces):
            final = i == len(pieces) - 1 and reply.image is None
            sent = await self.tg.bot.send_message(
                chat_id,
                piece,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if final else None,
                reply_parameters=quote if i == 0 else None,
            )
        if reply.image is not None:
            sent = await self.tg.bot.send_photo(
                chat_id,
                reply.image,
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                reply_parameters=None if pieces else quote,
            )
        if reply.file is not None:
            # A member's own file (their /export): a document, after the text that explains it.
            document = InputFile(reply.file, filename=reply.file_name or "unblend.txt")
            sent = await self.tg.bot.send_document(chat_id, document)
        if sent is not None:
            self._remember(chat_id, sent.message_id, reply.replace_key)

    async def _edit(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        try:
            await self.tg.bot.edit_message_text(
                text, chat_id, message_id, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except BadRequest as exc:
            # Same text again is fine; a message too old or deleted gets a fresh one instead.
            return "not modified" in str(exc).casefold()
        return True

    def _remember(self, chat_id: int, message_id: int, key: str) -> None:
        self._last[chat_id] = (message_id, key)
        self._last.move_to_end(chat_id)
        while len(self._last) > 10_000:
            self._last.popitem(last=False)


def menu_languages(shipped: tuple[str, ...]) -> list[tuple[str, str]]:
    """(locale, Telegram language_code) for each menu: "" is the default (English); every other
    shipped locale by its two-letter code, once ("pt-br" -> "pt")."""
    menus = [(shipped[0], "")]
    codes: set[str] = set()
    for locale in shipped[1:]:
        code = locale.split("-")[0]
        if len(code) == 2 and code not in codes:
            codes.add(code)
            menus.append((locale, code))
    return menus


def telegram_settings(config: Config) -> TelegramSettings:
    def get(key: str) -> str:
        return str(config.get("telegram", key))

    return TelegramSettings(
        token=config.telegram_token,
        base_url=get("base_url"),
        webhook_url=get("webhook_url"),
        webhook_listen=get("webhook_listen"),
        webhook_path=get("webhook_path"),
        webhook_secret=get("webhook_secret"),
    )
