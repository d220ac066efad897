"""A fake Telegram Bot API server (aiohttp on 127.0.0.1) for end-to-end tests.

The real python-telegram-bot Application talks to it through `base_url`. It keeps every
call, queues updates for getUpdates, and refuses what Telegram refuses (a wrong token, a
callback_data over 64 bytes, text over 4,096 characters, broken HTML, a member who never
started the bot). Every refusal is recorded in `rejections`; the test fixture fails a test
that leaves one there, so a test that expects one asserts it and clears the list.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fake_limits import TelegramGate, TelegramLimits
from tests.fake_server import FakeServer

TOKEN = "123456:TEST-fake-token-abcdefghijklmnopqrst"
BOT_ID = 123456
BOT_USERNAME = "UnblendTestBot"
START_DATE = 1_767_600_000

# Parameters PTB sends as plain strings; everything else is JSON-encoded.
STRING_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "url", "secret_token", "description"}
)
HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
    | {"tg-spoiler", "span", "blockquote", "tg-emoji"}
)
ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
ENTITY_TEXT = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
DEEP_LINK = re.compile(r"https://t\.me/([A-Za-z0-9_]{5,32})\?start=([A-Za-z0-9_-]{1,64})")


class RefusedError(Exception):
    def __init__(self, status: int, description: str, retry_after: float = 0) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


PARSE = "Bad Request: can't parse entities: "
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
OLD_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """The visible text of an HTML message, or RefusedError as Telegram words it."""

    def at(i: int) -> int:
        return len(text[:i].encode())

    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            end = text.find(">", i)
            if end < 0:
                raise RefusedError(
                    400,
                    PARSE + f"Can't find end of the tag at byte offset {at(i)}",
                )
            inner = text[i + 1 : end].strip()
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack or stack[-1] != name:
                    expected = f'"</{stack[-1]}>"' if stack else "no end tag"
                    raise RefusedError(
                        400,
                        PARSE + f"Unmatched end tag at byte offset {at(i)}, "
                        f'expected {expected}, found "</{name}>"',
                    )
                stack.pop()
            else:
                name = inner.split()[0].lower() if inner else ""
                if name not in HTML_TAGS:
                    raise RefusedError(
                        400,
                        PARSE + f'Unsupported start tag "{name}" at byte offset {at(i)}',
                    )
                stack.append(name)
            i = end + 1
        elif ch == "&":
            match = ENTITY.match(text, i)
            if match is None:
                raise RefusedError(
                    400,
                    PARSE + f"Character '&' is reserved and must be escaped at byte offset {at(i)}",
                )
            name = match.group(1)
            if name.startswith("#x"):
                out.append(chr(int(name[2:], 16)))
            elif name.startswith("#"):
                out.append(chr(int(name[1:])))
            else:
                out.append(ENTITY_TEXT[name])
            i = match.end()
        else:
            out.append(ch)
            i += 1
    if stack:
        raise RefusedError(
            400,
            PARSE + f'Can\'t find end tag corresponding to start tag "{stack[-1]}"',
        )
    return "".join(out)


@dataclass
class TgUser:
    id: int
    first_name: str
    language_code: str = "en"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }


@dataclass
class BotMessage:
    """A message the bot sent, as a member sees it now (after any edits)."""

    chat_id: int
    message_id: int
    text: str  # visible text (HTML parsed)
    html: str  # what the bot sent
    keyboard: list[list[dict[str, Any]]] = field(default_factory=list)
    photo: bool = False
    reply_to: int | None = None
    edits: int = 0
    document: bytes | None = None
    file_name: str = ""

    def buttons(self) -> list[dict[str, Any]]:
        return [b for row in self.keyboard for b in row]

    def to_json(self) -> dict[str, Any]:
        chat = {"id": self.chat_id, "type": "private" if self.chat_id > 0 else "supergroup"}
        if self.chat_id < 0:
            chat["title"] = "Recovery circle"
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": START_DATE,
            "chat": chat,
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Unblend",
                "username": BOT_USERNAME,
            },
        }
        if self.photo:
            data["photo"] = [
                {
                    "file_id": f"p{self.message_id}",
                    "file_unique_id": f"u{self.message_id}",
                    "width": 600,
                    "height": 300,
                }
            ]
            if self.text:
                data["caption"] = self.text
        elif self.document is not None:
            data["document"] = {
                "file_id": f"d{self.message_id}",
                "file_unique_id": f"v{self.message_id}",
                "file_name": self.file_name,
            }
        else:
            data["text"] = self.text
        if self.keyboard:
            data["reply_markup"] = {"inline_keyboard": self.keyboard}
        return data


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    status: int


@dataclass(frozen=True)
class Outgoing:
    """One visible change: a message sent or edited."""

    kind: str  # "send" or "edit"
    message: BotMessage
    text: str


class FakeTelegram(FakeServer):
    def __init__(self, token: str = TOKEN, limits: TelegramLimits | None = None) -> None:
        super().__init__()
        self.token = token
        # Opt-in flood limits (tests/fake_limits.py): off by default.
        self.gate = TelegramGate(limits) if limits is not None else None
        self.calls: list[Call] = []
        self.rejections: list[tuple[str, int, str]] = []
        self.outbox: list[Outgoing] = []
        self.messages: dict[tuple[int, int], BotMessage] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.localized_commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.started: set[int] = set()
        self.blocked: set[int] = set()
        self.deleted: list[BotMessage] = []  # taken back with deleteMessage
        self.too_old: set[tuple[int, int]] = set()  # (chat, message) past Telegram's 48 hours
        # Who is in which group (getChatMember, getChatAdministrators), as Telegram knows it:
        # chat -> user -> status ("creator", "administrator", "member", "restricted",
        # "left", "kicked"). A group comes into being with its creator (user 1, "Host") and
        # the bot; a member who writes in it is in it. `restricted_out`: restricted members
        # who are no longer in the chat (Telegram's is_member false).
        self.chats: dict[int, dict[int, str]] = {}
        self.restricted_out: set[tuple[int, int]] = set()
        self._failures: dict[str, list[RefusedError]] = {}
        self._updates: list[dict[str, Any]] = []
        # The latest update pushed, and the offset of the bot's latest poll: once the poll is
        # past an update, the bot has it (python-telegram-bot queues it before polling again).
        self.pushed = 0
        self.polled = 0
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._new_update = asyncio.Event()
        self.base_url = ""

    # -- server -------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        port = await self._serve(app)
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self.base_url

    async def close(self) -> None:
        self._changed.set()
        await self._stop_serving()

    def fail(
        self, method: str, status: int, description: str, times: int = 1, retry_after: int = 0
    ) -> None:
        """The next `times` calls of `method` fail like Telegram's own hiccups."""
        self._failures.setdefault(method, []).extend(
            RefusedError(status, description, retry_after) for _ in range(times)
        )

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = _decode(dict(await request.post()))
        try:
            if request.match_info["token"] != self.token:
                raise RefusedError(401, "Unauthorized")
            scripted = self._failures.get(method)
            if scripted:
                failure = scripted.pop(0)
                self.calls.append(Call(method, params, failure.status))
                return _error(failure)
            if self.gate is not None and (wait := self.gate.check(method, params)):
                self.calls.append(Call(method, params, 429))
                return _error(RefusedError(429, f"Too Many Requests: retry after {wait:g}", wait))
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                result = self._dispatch(method, params)
        except RefusedError as exc:
            self.calls.append(Call(method, params, exc.status))
            self.rejections.append((method, exc.status, exc.description))
            self._changed.set()
            return _error(exc)
        self.calls.append(Call(method, params, 200))
        self._changed.set()
        return web.json_response({"ok": True, "result": result})

    def _dispatch(self, method: str, p: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Unblend",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in ("deleteWebhook", "setWebhook", "close"):
            return True
        if method == "setMyCommands":
            return self._set_commands(p)
        if method == "sendMessage":
            return self._send(p, photo=False)
        if method == "sendPhoto":
            return self._send(p, photo=True)
        if method == "sendDocument":
            return self._send_document(p)
        if method == "editMessageText":
            return self._edit(p)
        if method == "deleteMessage":
            return self._delete(p)
        if method == "answerCallbackQuery":
            query = str(p.get("callback_query_id", ""))
            if query not in self._open_queries:
                raise RefusedError(
                    400,
                    OLD_QUERY,
                )
            self._open_queries.discard(query)
            return True
        if method == "getChatAdministrators":
            members = self._group(p)
            return [
                self._chat_member(user, status)
                for user, status in members.items()
                if status in ("creator", "administrator")
            ]
        if method == "getChatMember":
            members = self._group(p)
            user = p.get("user_id")
            if not isinstance(user, int):
                raise RefusedError(400, "Bad Request: PARTICIPANT_ID_INVALID")
            return self._chat_member(user, members.get(user, "left"), int(p["chat_id"]))
        raise RefusedError(404, "Not Found")

    # -- groups and who is in them ----------------------------------------------------------

    def group(self, chat_id: int) -> dict[int, str]:
        """The group `chat_id` (created with its creator, user 1, and the bot in it)."""
        return self.chats.setdefault(chat_id, {1: "creator", BOT_ID: "member"})

    def join(self, chat_id: int, user_id: int, status: str = "member") -> None:
        self.group(chat_id)[user_id] = status

    def leave(self, chat_id: int, user_id: int, status: str = "left") -> None:
        """The member leaves (or, with status "kicked", is banned from) the group."""
        self.group(chat_id)[user_id] = status

    def _group(self, p: dict[str, Any]) -> dict[int, str]:
        chat_id = p.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self.chats:
            raise RefusedError(400, "Bad Request: chat not found")
        members = self.chats[chat_id]
        if members.get(BOT_ID) in (None, "left", "kicked"):
            raise RefusedError(403, "Forbidden: bot is not a member of the supergroup chat")
        return members

    def _chat_member(self, user_id: int, status: str, chat_id: int = 0) -> dict[str, Any]:
        """A ChatMember object as the Bot API gives it, for each status."""
        who = {"id": user_id, "is_bot": user_id == BOT_ID, "first_name": f"User {user_id}"}
        if user_id == 1:
            who["first_name"] = "Host"
        data: dict[str, Any] = {"status": status, "user": who}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "administrator":
            rights = (
                "can_be_edited can_manage_chat can_delete_messages can_manage_video_chats"
                " can_restrict_members can_promote_members can_change_info can_invite_users"
                " can_post_stories can_edit_stories can_delete_stories"
            )
            data.update({right: right != "can_be_edited" for right in rights.split()})
            data["is_anonymous"] = False
        elif status == "restricted":
            rights = (
                "can_send_messages can_send_audios can_send_documents can_send_photos"
                " can_send_videos can_send_video_notes can_send_voice_notes can_send_polls"
                " can_send_other_messages can_add_web_page_previews can_change_info"
                " can_invite_users can_pin_messages can_manage_topics can_edit_tag"
                " can_react_to_messages"
            )
            data.update({right: False for right in rights.split()})
            data["is_member"] = (chat_id, user_id) not in self.restricted_out
            data["until_date"] = 0
        elif status == "kicked":
            data["until_date"] = 0
        return data

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset") or 0)
        if offset > self.polled:
            self.polled = offset
            self._changed.set()
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            # A long poll: answers as soon as an update comes, or empty after a short wait.
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._new_update.wait(), min(float(p.get("timeout") or 0), 0.5)
                )
        return list(self._updates)

    # -- validation ---------------------------------------------------------------------------

    def _chat(self, p: dict[str, Any]) -> int:
        chat_id = p.get("chat_id")
        if not isinstance(chat_id, int):
            raise RefusedError(400, "Bad Request: chat not found")
        if chat_id > 0 and chat_id in self.blocked:
            raise RefusedError(403, "Forbidden: bot was blocked by the user")
        if chat_id > 0 and chat_id not in self.started:
            raise RefusedError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _visible(self, raw: Any, p: dict[str, Any], limit: int, too_long: str) -> str:
        text = str(raw or "")
        shown = parse_html(text) if str(p.get("parse_mode", "")).upper() == "HTML" else text
        if utf16_len(shown.strip()) > limit:
            raise RefusedError(400, too_long)
        return shown

    def _keyboard(self, p: dict[str, Any]) -> list[list[dict[str, Any]]]:
        markup = p.get("reply_markup")
        if markup is None:
            return []
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list):
            raise RefusedError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in rows:
            if len(row) > 8:
                raise RefusedError(400, "Bad Request: BUTTON_DATA_INVALID")
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise RefusedError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode())
                    if not 1 <= size <= 64:
                        raise RefusedError(400, "Bad Request: BUTTON_DATA_INVALID")
                elif "url" in button:
                    url = str(button["url"])
                    if url.startswith("https://t.me/") and not DEEP_LINK.fullmatch(url):
                        raise RefusedError(400, "Bad Request: BUTTON_URL_INVALID")
                    if not url.startswith(("https://", "http://", "tg://")):
                        raise RefusedError(400, "Bad Request: BUTTON_URL_INVALID")
                else:
                    raise RefusedError(
                        400,
                        "Bad Request: can't parse inline keyboard button",
                    )
        return rows

    def _send(self, p: dict[str, Any], photo: bool) -> dict[str, Any]:
        chat_id = self._chat(p)
        if photo:
            if not p.get("photo"):
                raise RefusedError(400, "Bad Request: there is no photo in the request")
            text = self._visible(
                p.get("caption"), p, 1024, "Bad Request: message caption is too long"
            )
            html = str(p.get("caption") or "")
        else:
            text = self._visible(p.get("text"), p, 4096, "Bad Request: message is too long")
            if not text.strip():
                raise RefusedError(400, "Bad Request: message text is empty")
            html = str(p["text"])
        keyboard = self._keyboard(p)
        reply = p.get("reply_parameters")
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        message = BotMessage(
            chat_id, next(self._message_ids), text, html, keyboard, photo, reply_to
        )
        self.messages[(chat_id, message.message_id)] = message
        self.outbox.append(Outgoing("send", message, text))
        return message.to_json()

    def _send_document(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(p)
        upload = p.get("document")
        if not isinstance(upload, web.FileField):
            raise RefusedError(400, "Bad Request: there is no document in the request")
        data = upload.file.read()
        if not data:
            raise RefusedError(400, "Bad Request: file must be non-empty")
        message = BotMessage(
            chat_id, next(self._message_ids), "", "", document=data, file_name=upload.filename
        )
        self.messages[(chat_id, message.message_id)] = message
        self.outbox.append(Outgoing("send", message, upload.filename))
        return message.to_json()

    def _edit(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(p)
        message = self.messages.get((chat_id, int(p.get("message_id") or 0)))
        if message is None or message.photo:
            raise RefusedError(400, "Bad Request: message to edit not found")
        text = self._visible(p.get("text"), p, 4096, "Bad Request: message is too long")
        if not text.strip():
            raise RefusedError(400, "Bad Request: message text is empty")
        keyboard = self._keyboard(p)
        if text == message.text and keyboard == message.keyboard:
            raise RefusedError(
                400,
                NOT_MODIFIED,
            )
        message.text, message.html, message.keyboard = text, str(p["text"]), keyboard
        message.edits += 1
        self.outbox.append(Outgoing("edit", message, text))
        return message.to_json()

    def _delete(self, p: dict[str, Any]) -> bool:
        """deleteMessage: a bot's own message, in a group only within 48 hours (`too_old`)."""
        key = (self._chat(p), int(p.get("message_id") or 0))
        if key not in self.messages:
            raise RefusedError(400, "Bad Request: message to delete not found")
        if key in self.too_old:
            raise RefusedError(400, "Bad Request: message can't be deleted for everyone")
        self.deleted.append(self.messages.pop(key))
        return True

    def _set_commands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise RefusedError(400, "Bad Request: commands must be a list of at most 100")
        for c in commands:
            if not COMMAND_NAME.fullmatch(str(c.get("command", ""))):
                raise RefusedError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", "")).strip()) <= 256:
                raise RefusedError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = p.get("scope") or {"type": "default"}
        language = str(p.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise RefusedError(400, "Bad Request: LANGUAGE_CODE_INVALID")
        if language:
            # The menu members whose Telegram is set to that language see (issue 16).
            self.localized_commands[(str(scope.get("type")), language)] = commands
        else:
            self.commands[str(scope.get("type"))] = commands
        return True

    # -- what members do ----------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = self.pushed = next(self._update_ids)
        self._updates.append(update)
        self._new_update.set()

    def say(self, user: TgUser, text: str, group: int | None = None) -> None:
        """A member writes in their private chat with the bot, or in a group."""
        if group is None:
            self.started.add(user.id)
            chat: dict[str, Any] = {"id": user.id, "type": "private", "first_name": user.first_name}
        else:
            chat = {"id": group, "type": "supergroup", "title": "Recovery circle"}
            # Telegram delivers a group's messages only from those in it.
            members = self.group(group)
            if members.get(user.id) in (None, "left", "kicked"):
                members[user.id] = "member"
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": START_DATE,
            "chat": chat,
            "from": user.to_json(),
            "text": text,
        }
        if text.startswith("/"):
            word = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]
        self._push({"message": message})

    def tap(self, user: TgUser, message: BotMessage, data: str) -> str:
        query = str(next(self._query_ids))
        self._open_queries.add(query)
        self._push(
            {
                "callback_query": {
                    "id": query,
                    "from": user.to_json(),
                    "chat_instance": f"ci{user.id}",
                    "data": data,
                    "message": message.to_json(),
                }
            }
        )
        return query

    async def fetched(self, within: float = 10.0) -> None:
        """Waits until the bot has fetched every update pushed so far."""
        await self.wait_for(lambda: self.polled > self.pushed, within)

    def calls_of(self, method: str, status: int = 200) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == status]


class Member:
    """A Telegram member in the tests: writes, taps buttons by label, reads what came."""

    def __init__(self, fake: FakeTelegram, user_id: int, name: str) -> None:
        self.fake = fake
        self.user = TgUser(user_id, name)
        self.seen = 0  # outbox entries already looked at

    def send(self, text: str, group: int | None = None) -> None:
        self.fake.say(self.user, text, group)

    async def expect(
        self, fragment: str, chat: int | None = None, within: float = 10.0
    ) -> Outgoing:
        """The next visible change in `chat` (default: the private chat) containing `fragment`."""
        chat_id = self.user.id if chat is None else chat

        def find() -> Outgoing | None:
            for i in range(self.seen, len(self.fake.outbox)):
                out = self.fake.outbox[i]
                if out.message.chat_id == chat_id and fragment in out.text:
                    self.seen = i + 1
                    return out
            return None

        try:
            found: Outgoing = await self.fake.wait_for(find, within)
        except AssertionError:
            got = [
                o.text[:80] for o in self.fake.outbox[self.seen :] if o.message.chat_id == chat_id
            ]
            raise AssertionError(
                f"no message with {fragment!r}; got {got}; rejected {self.fake.rejections}"
            ) from None
        return found

    def tap(self, label: str) -> None:
        """Taps the button `label` on the newest bot message in the private chat that has it."""
        mine = [m for (chat, _), m in self.fake.messages.items() if chat == self.user.id]
        for message in sorted(mine, key=lambda m: m.message_id, reverse=True):
            for button in message.buttons():
                if button.get("text") == label and "callback_data" in button:
                    self.fake.tap(self.user, message, str(button["callback_data"]))
                    return
        labels = [b.get("text") for m in mine for b in m.buttons()]
        raise AssertionError(f"no button {label!r}; buttons are {labels}")


def _decode(raw: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in STRING_PARAMS or not isinstance(value, str):
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _error(exc: RefusedError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.retry_after:
        whole = float(exc.retry_after).is_integer()
        body["parameters"] = {"retry_after": int(exc.retry_after) if whole else exc.retry_after}
    return web.json_response(body, status=exc.status)
