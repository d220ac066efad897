"""Telegram's side of group check-ins: who moderates (chat admins, cached) and outbox posts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from telegram import Bot, ReplyParameters
from telegram.constants import ParseMode
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
from core.catalog import Catalog
from core.schedule.outbox import DeleteStatus, Delivery, SendResult, SendStatus

log = logging.getLogger(__name__)

ADMIN_TTL = timedelta(minutes=10)
# Telegram lets a bot delete its own messages in a group for 48 hours after sending them.
DELETE_WINDOW = timedelta(hours=48)
MAX_CACHED_CHATS = 10_000


class AdminCache:
    """Each group's admins from getChatAdministrators, kept for ADMIN_TTL, then refreshed."""

    def __init__(self, ttl: timedelta = ADMIN_TTL) -> None:
        self.ttl = ttl
        self._chats: dict[int, tuple[datetime, frozenset[int]]] = {}

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int, now: datetime) -> bool:
        cached = self._chats.get(chat_id)
        if cached is None or now - cached[0] > self.ttl:
            try:
                admins = await bot.get_chat_administrators(chat_id)
            except TelegramError as exc:
                log.warning("Telegram: getChatAdministrators failed (%s)", type(exc).__name__)
                # Keep what we knew; knowing nothing, nobody is treated as a moderator.
                return cached is not None and user_id in cached[1]
            if len(self._chats) >= MAX_CACHED_CHATS:
                self._chats.clear()
            cached = (now, frozenset(a.user.id for a in admins))
            self._chats[chat_id] = cached
        return user_id in cached[1]

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)


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
