"""Telegram's side of group check-ins: who moderates (chat admins, cached) and outbox posts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from telegram import Bot, ChatMember, ChatMemberRestricted, ReplyParameters
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bots.telegram_render import (
    TEXT_LIMIT,
    contact_link,
    deep_link,
    escape,
    keyboard,
    split_text,
    tg_len,
    user_link_refused,
)
from core.api import Catalog, Check, DeleteStatus, Delivery, Event, SendResult, SendStatus

log = logging.getLogger(__name__)

# Who moderates is asked again after a few minutes: a demoted admin loses the rights soon.
ADMIN_TTL = timedelta(minutes=5)
# Telegram lets a bot delete its own messages in a group for 48 hours after sending them.
DELETE_WINDOW = timedelta(hours=48)
MAX_CACHED_CHATS = 10_000


class AdminCache:
    """Each group's admins from getChatAdministrators, kept for ADMIN_TTL, then asked again.

    When Telegram can't be asked, the answer is None ("could not check"): never an older list,
    so a moderator action is refused kindly rather than allowed on stale rights (issue 12).
    """

    def __init__(self, ttl: timedelta = ADMIN_TTL) -> None:
        self.ttl = ttl
        self._chats: dict[int, tuple[datetime, frozenset[int]]] = {}

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int, now: datetime) -> bool | None:
        cached = self._chats.get(chat_id)
        if cached is None or not timedelta(0) <= now - cached[0] < self.ttl:
            self._chats.pop(chat_id, None)
            try:
                admins = await bot.get_chat_administrators(chat_id)
            except TelegramError as exc:
                log.warning("Telegram: getChatAdministrators failed (%s)", type(exc).__name__)
                return None
            if len(self._chats) >= MAX_CACHED_CHATS:
                self._chats.clear()
            cached = (now, frozenset(a.user.id for a in admins))
            self._chats[chat_id] = cached
        return user_id in cached[1]

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)


IN_CHAT = frozenset(
    {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)
ADMIN = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


def _chat_id(text: str) -> int | None:
    digits = text.removeprefix("-")
    return int(text) if digits.isascii() and digits.isdigit() else None


def is_in_chat(member: ChatMember) -> bool:
    """Member, administrator or creator; restricted counts only while still in the chat."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in IN_CHAT


class TelegramMembership:
    """The core's Membership port on Telegram: getChatMember, asked each time (issue 12)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _member(self, chat: int, user: int) -> ChatMember | Check:
        try:
            return await self.bot.get_chat_member(chat, user)
        except (BadRequest, Forbidden) as exc:
            # No such chat or user, or the bot is not in the chat: nobody is in it for us.
            log.info("Telegram: getChatMember refused (%s)", type(exc).__name__)
            return Check.NO
        except TelegramError as exc:
            log.warning("Telegram: getChatMember failed (%s)", type(exc).__name__)
            return Check.UNKNOWN

    async def in_group(self, group: str, user_id: str) -> Check:
        chat, user = _chat_id(group), _chat_id(user_id)
        if chat is None or user is None:
            return Check.NO
        found = await self._member(chat, user)
        if isinstance(found, Check):
            return found
        return Check.YES if is_in_chat(found) else Check.NO

    async def opens_from(self, group: str, event: Event) -> Check:
        # A deep link opens in the private chat from anywhere: only the member's presence in
        # the group, asked now, lets it open.
        return await self.in_group(group, event.user_id)

    async def channel_in_group(self, group: str, channel: str) -> Check:
        # The group itself, or one of its topics (a topic's number names nothing elsewhere).
        inside = channel == group or (channel.isascii() and channel.isdigit())
        return Check.YES if inside else Check.NO

    async def mod_channel(self, group: str, channel: str, setter: str | None) -> Check:
        if await self.channel_in_group(group, channel) is Check.YES:
            return Check.YES
        chat = _chat_id(channel)
        if chat is None or chat >= 0:
            return Check.NO
        # Another chat: the bot must be in it, and whoever sets it an admin there.
        bot = await self._member(chat, self.bot.id)
        if isinstance(bot, Check) or not is_in_chat(bot):
            return bot if isinstance(bot, Check) else Check.NO
        if setter is None:
            return Check.YES  # re-checked before use: the bot is still there
        who = _chat_id(setter)
        person = await self._member(chat, who) if who is not None else Check.NO
        if isinstance(person, Check):
            return person
        return Check.YES if person.status in ADMIN else Check.NO


async def post_delivery(
    bot: Bot, username: str, catalog: Catalog, delivery: Delivery
) -> SendResult:
    """One outbox item as Telegram messages: the prompt's deep link, a reply to a prompt."""
    reply = delivery.reply
    link = None
    if reply.private_link:
        label = reply.meta.get("link_label") or catalog.text("groups.open_button")
        link = (label, deep_link(username, reply.private_link))
    contact = contact_link(reply)  # a reach-out the member asked for: a way to reach them
    markup = keyboard(reply.choices, link, contact)
    thread = int(delivery.thread) if delivery.thread.isdigit() else None
    quote = (
        ReplyParameters(int(delivery.reply_to), allow_sending_without_reply=True)
        if delivery.reply_to.isdigit()
        else None
    )
    pieces = [escape(p) for p in split_text(reply.text)]
    try:
        sent = None
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            send = partial(
                bot.send_message,
                int(delivery.target),
                parse_mode=ParseMode.HTML,
                reply_parameters=quote if i == 0 else None,
                message_thread_id=thread,
            )
            try:
                sent = await send(piece, reply_markup=markup if last else None)
            except BadRequest as exc:
                if not (last and contact is not None and user_link_refused(exc.message)):
                    raise
                # The member's privacy settings allow no link to them: the rest still goes.
                log.info("Telegram: no link to a member allowed; sent without it")
                note = escape(catalog.text("telegram.contact_hidden"))
                shown = f"{piece}\n\n{note}"
                piece = shown if tg_len(shown) <= TEXT_LIMIT else piece
                sent = await send(piece, reply_markup=keyboard(reply.choices, link))
    except RetryAfter as exc:
        seconds = exc.retry_after
        wait = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        return SendResult(SendStatus.RETRY, retry_after=wait)
    except (Forbidden, BadRequest) as exc:
        # Removed from the group, the topic deleted, or a member who blocked the bot.
        log.warning("Telegram: an outbox message was refused (%s)", type(exc).__name__)
        return SendResult(SendStatus.GONE)
    except TelegramError as exc:
        log.warning("Telegram: an outbox message failed (%s); retrying", type(exc).__name__)
        return SendResult(SendStatus.RETRY)
    return SendResult(SendStatus.SENT, str(sent.message_id) if sent is not None else "")


async def delete_posted(bot: Bot, target: str, message_ref: str) -> DeleteStatus:
    """Takes a message the bot posted back out of a group (deleteMessage): /forget."""
    if not message_ref.isdigit() or not target.lstrip("-").isdigit():
        return DeleteStatus.FAILED
    try:
        await bot.delete_message(int(target), int(message_ref))
    except BadRequest as exc:
        text = str(exc).casefold()
        if "not found" in text:
            return DeleteStatus.GONE
        log.warning("Telegram: a shared line could not be deleted (%s)", type(exc).__name__)
        return DeleteStatus.TOO_OLD if "can't be deleted" in text else DeleteStatus.FAILED
    except TelegramError as exc:
        log.warning("Telegram: deleting a shared line failed (%s)", type(exc).__name__)
        return DeleteStatus.FAILED
    return DeleteStatus.DELETED
