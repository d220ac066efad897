"""Core replies as Telegram message parts: escaped HTML, text split to fit, inline keyboards."""

from __future__ import annotations

import html
from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bots.text_split import split_text as split
from core.api import MAX_CHOICE_ID_BYTES, Choice, Reply

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# A row holds a few short buttons (a 0-10 scale in two rows) or one long one.
ROW_BUTTONS = 6
ROW_CHARS = 30
NAV_PREFIX = "nav:"


def tg_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Content and member text are plain: shown exactly as written, never as markup."""
    return html.escape(text, quote=False)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces within Telegram's limit, in UTF-16 units (bots/text_split.py)."""
    return split(text, limit, tg_len)


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{quote(bot_username)}?start={quote(payload)}"


def contact_link(reply: Reply) -> tuple[str, str] | None:
    """A reach-out's way to the member who asked (their own request): (label, url) of a button
    that opens their profile, where Telegram offers "Message". None on any other reply."""
    user = reply.meta.get("contact_user", "")
    label = reply.meta.get("contact_label", "").strip()
    if not (user.isascii() and user.isdigit() and label):
        return None
    return label, f"tg://user?id={user}"


def user_link_refused(description: str) -> bool:
    """Telegram refused a tg://user button: the member's privacy settings allow no link to them
    (BUTTON_USER_PRIVACY_RESTRICTED), or Telegram doesn't know them (BUTTON_USER_INVALID)."""
    return "button_user" in description.casefold()


def keyboard(
    choices: tuple[Choice, ...],
    link: tuple[str, str] | None = None,
    contact: tuple[str, str] | None = None,
) -> InlineKeyboardMarkup | None:
    """Buttons whose callback_data is the choice id; `link` is (label, url) for a URL button,
    `contact` (label, url) one more, last: the way to reach a member who asked for it."""
    rows: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    width = 0
    in_nav = False
    for choice in choices:
        size = len(choice.id.encode())
        # The core keeps ids short; a longer one would be refused by Telegram, so it's a bug.
        assert 0 < size <= MAX_CHOICE_ID_BYTES, f"choice id of {size} bytes"
        starts_nav = choice.id.startswith(NAV_PREFIX) and not in_nav
        in_nav = in_nav or starts_nav
        if row and (starts_nav or len(row) >= ROW_BUTTONS or width + len(choice.label) > ROW_CHARS):
            rows.append(row)
            row, width = [], 0
        row.append(InlineKeyboardButton(choice.label, callback_data=choice.id))
        width += len(choice.label) + 2
    if row:
        rows.append(row)
    for url_button in (link, contact):
        if url_button is not None:
            rows.append([InlineKeyboardButton(url_button[0], url=url_button[1])])
    return InlineKeyboardMarkup(rows) if rows else None
