"""A fake Discord (REST + gateway, aiohttp on 127.0.0.1) for end-to-end tests.

A real discord.py client talks to it through `api_base_url` and `gateway_url`. It speaks the
gateway (HELLO, heartbeat ACK, IDENTIFY, READY, GUILD_CREATE, INTERACTION_CREATE, and
MESSAGE_CREATE for a bot that asks for servers' messages), with shards as Discord has them:
IDENTIFY's `shard: [id, count]` (a bad one is closed with 4010), each connection told only
of the servers of its shard, a server's events sent to the connection of shard
`(guild_id >> 22) % count` and direct messages to shard 0's. It answers REST
calls with exactly `Content-Type: application/json` (as Discord does; discord.py reads anything
else as text), and keeps what Discord enforces:
- every interaction is answered, the first answer within 3 seconds and only once. One never
  answered, or deferred and never followed up (Discord shows "The application did not
  respond"), is recorded when the fake closes (`unanswered()` tells a test sooner);
- a deferred answer's "thinking" placeholder is taken over by the first follow-up, which
  keeps the placeholder's visibility (its flags win, not the follow-up's);
- 2,000 characters; components: at most 5 rows, 5 buttons or one select a row, 25 options a
  select, custom_id <= 100 and unique in a message (else 400, as Discord);
- forms (modals): a title and labels of at most 45, 1 to 5 text inputs, max_length <= 4000;
  autocomplete: at most 25 suggestions, names 1-100 and values up to 100 (else 400);
- a 429 with `Via` (so discord.py retries).
It also checks this bot's own rule: every message is sent with no mentions allowed. Everything
broken is recorded in `violations`, everything refused in `rejections`; the test fixture
fails a test that leaves one there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fake_limits import DiscordGate, DiscordLimits
from tests.fake_server import FakeServer

# The locales Discord knows (its Locales reference), and its rule for an option's name.
DISCORD_LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)
OPTION_NAME = re.compile(r"[-_\w]{1,32}")

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.token-for-tests-only"
APP_ID = 900_000_000_000_000_001
BOT_ID = APP_ID
GUILD_ID = 800_000_000_000_000_001
CHANNEL_ID = 800_000_000_000_000_002
MODS_CHANNEL_ID = CHANNEL_ID + 5  # the server's moderators' channel
# Another server the bot is in, with a channel of its own (a group the first one must not reach).
OTHER_GUILD_ID = 810_000_000_000_000_001
OTHER_CHANNEL_ID = 810_000_000_000_000_002
TIMESTAMP = "2026-01-05T09:00:00.000000+00:00"
EPHEMERAL = 64
FIRST_ANSWER_SECONDS = 3.0
TEXT_LIMIT = 2000
CUSTOM_ID_LIMIT = 100
ROWS = 5
ROW_BUTTONS = 5
SELECT_OPTIONS = 25
MODAL_TITLE_LIMIT = 45
MODAL_INPUTS = 5
INPUT_LABEL_LIMIT = 45
INPUT_LENGTH_LIMIT = 4000
SUGGESTIONS = 25
SUGGESTION_LIMIT = 100
INVALID_FORM = 50035  # Discord's "Invalid Form Body"
GUILDS_INTENT = 1
GUILD_MESSAGES_INTENT = 1 << 9
DIRECT_MESSAGES_INTENT = 1 << 12
MESSAGE_CONTENT_INTENT = 1 << 15
# The application's flag for the Developer Portal's "Message Content Intent" switch.
APP_FLAG_MESSAGE_CONTENT = 1 << 18
BOT_USER = {
    "id": str(BOT_ID),
    "username": "Unblend",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
}
NO_MENTIONS: dict[str, list[str]] = {"parse": []}


@dataclass
class DcUser:
    id: int
    name: str
    # The member's app language, which Discord sends with each of their interactions.
    locale: str = "en-US"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name.lower(),
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
        }


@dataclass
class FakeMessage:
    """A message as members see it now (after any edits)."""

    id: int
    channel_id: int
    content: str
    flags: int = 0
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: int = 0
    for_user: int | None = None  # an interaction's answer: who it belongs to
    interaction_token: str = ""
    allowed_mentions: Any = None
    edits: int = 0
    reference: Any = None  # the message it answers (Discord shows a quote of it)
    loading: bool = False  # a deferred answer's placeholder ("Unblend is thinking...")

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    def buttons(self) -> list[dict[str, Any]]:
        return [c for row in self.components for c in row.get("components", [])]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": 0,
            "content": self.content,
            "author": BOT_USER,
            "attachments": [
                {
                    "id": str(self.id + 1 + i),
                    "filename": "unblend.png",
                    "size": 1,
                    "url": "https://cdn.example/unblend.png",
                    "proxy_url": "https://cdn.example/unblend.png",
                }
                for i in range(self.attachments)
            ],
            "embeds": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "flags": self.flags,
            "components": self.components,
            "application_id": str(APP_ID),
            "webhook_id": str(APP_ID) if self.interaction_token else None,
        }


@dataclass(frozen=True)
class Outgoing:
    """One visible change: a message sent or edited."""

    kind: str  # "send" or "edit"
    message: FakeMessage
    text: str


@dataclass
class Pending:
    """An interaction sent to the bot, waiting for (or holding) its first answer."""

    id: int
    token: str
    user: DcUser
    channel_id: int
    dispatched_at: float
    answered: int = 0  # the callback type, 0 while unanswered
    modal: dict[str, Any] | None = None
    expired: bool = False
    suggestions: list[dict[str, Any]] | None = None  # an autocomplete's answer
    original: int | None = None  # the message of the first answer (or its placeholder)


class RefusedError(Exception):
    def __init__(self, status: int, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": aiohttp's json_response adds "; charset=utf-8".
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _invalid(why: str) -> RefusedError:
    return RefusedError(400, f"Invalid Form Body: {why}", INVALID_FORM)


def _valid_shard(shard: Any) -> bool:
    """[id, count], whole numbers, 0 <= id < count (else Discord closes with 4010)."""
    if not (isinstance(shard, list) and len(shard) == 2):
        return False
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in shard):
        return False
    return bool(0 <= shard[0] < shard[1])


def _check_components(rows: list[dict[str, Any]]) -> None:
    """Discord's limits on a message's components; breaking one refuses the whole message."""
    if len(rows) > ROWS:
        raise _invalid(f"{len(rows)} action rows")
    seen: set[str] = set()
    for row in rows:
        inner = row.get("components", [])
        selects = [c for c in inner if c.get("type") == 3]
        if not 1 <= len(inner) <= ROW_BUTTONS or (selects and len(inner) > 1):
            raise _invalid(f"an action row of {len(inner)} components")
        for comp in inner:
            custom_id = str(comp.get("custom_id", ""))
            if comp.get("type") == 2 and comp.get("style") == 5:
                continue  # a link button has a url, no custom_id
            if not 1 <= len(custom_id) <= CUSTOM_ID_LIMIT:
                raise _invalid(f"custom_id of {len(custom_id)} characters")
            if custom_id in seen:
                raise _invalid("COMPONENT_CUSTOM_ID_DUPLICATED")
            seen.add(custom_id)
            if comp.get("type") == 2 and not 1 <= len(str(comp.get("label", ""))) <= 80:
                raise _invalid("a button label of 1-80 characters")
            if comp.get("type") == 3:
                options = comp.get("options", [])
                values = [str(o.get("value", "")) for o in options]
                if not 1 <= len(options) <= SELECT_OPTIONS:
                    raise _invalid(f"{len(options)} select options")
                if len(set(values)) < len(values):
                    raise _invalid("SELECT_COMPONENT_OPTION_VALUE_DUPLICATED")
                for option, value in zip(options, values, strict=True):
                    if not 1 <= len(value) <= 100 or not 1 <= len(option.get("label", "")) <= 100:
                        raise _invalid("a select option's label and value of 1-100")


def _check_modal(data: dict[str, Any]) -> None:
    """A form: a title, 1 to 5 text inputs, each with a label, and lengths Discord allows."""
    title = str(data.get("title") or "")
    if not 1 <= len(title) <= MODAL_TITLE_LIMIT:
        raise _invalid(f"a form title of {len(title)} characters")
    if not 1 <= len(str(data.get("custom_id") or "")) <= CUSTOM_ID_LIMIT:
        raise _invalid("a form's custom_id")
    inputs: list[tuple[dict[str, Any], str]] = []
    for top in data.get("components") or []:
        if top.get("type") == 18:  # a label around one input
            inputs.append((top.get("component") or {}, str(top.get("label") or "")))
        for comp in top.get("components") or []:
            inputs.append((comp, str(comp.get("label") or "")))
    if not 1 <= len(inputs) <= MODAL_INPUTS:
        raise _invalid(f"a form of {len(inputs)} inputs")
    ids = [str(comp.get("custom_id") or "") for comp, _ in inputs]
    if len(set(ids)) < len(ids):
        raise _invalid("COMPONENT_CUSTOM_ID_DUPLICATED")
    for comp, label in inputs:
        top_length = int(comp.get("max_length") or INPUT_LENGTH_LIMIT)
        low = int(comp.get("min_length") or 0)
        if not 1 <= len(label) <= INPUT_LABEL_LIMIT:
            raise _invalid(f"an input label of {len(label)} characters")
        if not 1 <= top_length <= INPUT_LENGTH_LIMIT or not 0 <= low <= INPUT_LENGTH_LIMIT:
            raise _invalid(f"an input length of {low}-{top_length}")


def _check_suggestions(choices: list[dict[str, Any]]) -> None:
    if len(choices) > SUGGESTIONS:
        raise _invalid(f"{len(choices)} autocomplete choices")
    for choice in choices:
        name, value = str(choice.get("name", "")), choice.get("value", "")
        if not 1 <= len(name) <= SUGGESTION_LIMIT:
            raise _invalid(f"a choice name of {len(name)} characters")
        if isinstance(value, str) and len(value) > SUGGESTION_LIMIT:
            raise _invalid(f"a choice value of {len(value)} characters")


INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011


def shard_of(guild_id: int, count: int) -> int:
    return (guild_id >> 22) % count


@dataclass
class Session:
    """One gateway connection: the shard it identified as (0 of 1 without a shard field)."""

    ws: web.WebSocketResponse
    shard: int = 0
    count: int = 1
    sharded: bool = False
    seq: Any = field(default_factory=lambda: itertools.count(1))


class FakeDiscord(FakeServer):
    def __init__(self, token: str = TOKEN, limits: DiscordLimits | None = None) -> None:
        super().__init__()
        self.token = token
        # Opt-in rate limits (tests/fake_limits.py): off by default.
        self.gate = DiscordGate(limits) if limits is not None else None
        self.violations: list[str] = []
        self.rejections: list[tuple[str, int, str]] = []
        self.requests: list[tuple[str, str, int]] = []
        self.outbox: list[Outgoing] = []
        self.messages: dict[int, FakeMessage] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.identify: dict[str, Any] | None = None  # the last IDENTIFY
        self.sessions: dict[int, Session] = {}  # shard -> its live connection
        self.interactions: dict[int, Pending] = {}
        self.closed_dms: set[int] = set()
        self.dm_channels: dict[int, int] = {}
        # Group check-ins: threads started from a message (thread id == the message id, as on
        # Discord), and channels deleted from the server (every call to them gets a 404).
        self.threads: dict[int, int] = {}  # thread id -> the channel it was started in
        self.gone_channels: set[int] = set()
        self.deleted: list[FakeMessage] = []  # taken back with DELETE (a member's /forget)
        self.guild_roles: set[int] = set()  # roles the server has besides @everyone
        self.threads_forbidden = False  # the bot lacks Create Public Threads
        # Who is in the server (GET /guilds/{guild}/members/{user}): everyone but those who
        # left; and channels of other servers the bot is in (GET /channels/{channel}).
        self.left_guild: set[int] = set()
        self.guild_channels: dict[int, str] = {CHANNEL_ID: "check-ins", MODS_CHANNEL_ID: "mods"}
        self.other_channels: dict[int, int] = {OTHER_CHANNEL_ID: OTHER_GUILD_ID}
        # More servers the bot is in, announced at READY like the first (server -> its
        # channels), and servers whose members are listed: whoever is not listed is not in it.
        # The first server without a list: everyone but those in `left_guild`.
        self.more_guilds: dict[int, dict[int, str]] = {}
        self.rosters: dict[int, set[int]] = {}
        # The Developer Portal's Message Content switch: off, as on a new application. A bot
        # asking for the intent while it is off is disconnected with 4014.
        self.message_content_allowed = False
        # A bot in too many servers for one connection: IDENTIFY without a shard gets 4011.
        self.sharding_required = False
        # MESSAGE_CREATE payloads dispatched: members' messages and the bot's own, echoed.
        self.said: list[dict[str, Any]] = []
        self.api_base_url = ""
        self.gateway_url = ""
        self._rate_limits: dict[str, int] = {}
        self._retry_after: dict[str, float] = {}
        self._broken: dict[str, int] = {}
        self._ids = itertools.count(1_000_000_000_000_000_000)

    # -- server -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        port = await self._serve(app)
        self.api_base_url = f"http://127.0.0.1:{port}/api/v10"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"

    async def close(self) -> None:
        # The test is over: whatever the bot left unanswered, a member saw fail.
        self.violations += self.unanswered()
        for session in list(self.sessions.values()):
            if not session.ws.closed:
                await session.ws.close()
        await self._stop_serving()

    def unanswered(self) -> list[str]:
        """Interactions a member would see fail ("The application did not respond"): never
        answered, or deferred with a placeholder that no follow-up took over or removed.
        Discord gives up after 3 seconds; the fake asks when the test looks (or ends), so
        no test has to wait for the clock."""
        found = []
        for p in self.interactions.values():
            placeholder = self.messages.get(p.original) if p.original is not None else None
            if not p.answered:
                found.append(f"interaction {p.id} was never answered")
            elif placeholder is not None and placeholder.loading:
                found.append(f"interaction {p.id} was deferred and never answered")
        return found

    def rate_limit(self, kind: str, times: int = 1, retry_after: float = 0.05) -> None:
        """The next `times` requests of `kind` ("callback", "followup", "dm", "other") get a
        429 asking to wait `retry_after` seconds (beyond 30, discord.py raises RateLimited)."""
        self._rate_limits[kind] = self._rate_limits.get(kind, 0) + times
        self._retry_after[kind] = retry_after

    def break_next(self, kind: str, times: int = 1) -> None:
        """The next `times` requests of `kind` lose their connection: no answer at all."""
        self._broken[kind] = self._broken.get(kind, 0) + times

    def expire_tokens(self) -> None:
        """Every interaction so far is older than 15 minutes: its token no longer works."""
        for p in self.interactions.values():
            p.expired = True

    # -- gateway ------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        session = Session(ws)
        try:
            await self._serve_session(session)
        finally:
            if self.sessions.get(session.shard) is session:
                del self.sessions[session.shard]
        return ws

    async def _serve_session(self, session: Session) -> None:
        ws = session.ws
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op = frame.get("op")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                self.identify = frame["d"]
                if frame["d"].get("token") != self.token:
                    self.rejections.append(("IDENTIFY", 4004, "Authentication failed."))
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                intents = int(frame["d"].get("intents") or 0)
                if intents & MESSAGE_CONTENT_INTENT and not self.message_content_allowed:
                    self.rejections.append(("IDENTIFY", 4014, "Disallowed intent(s)."))
                    await ws.close(code=4014, message=b"Disallowed intent(s).")
                    break
                shard = frame["d"].get("shard")
                if shard is not None and not _valid_shard(shard):
                    self.rejections.append(("IDENTIFY", INVALID_SHARD, "Invalid shard."))
                    await ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
                    break
                if shard is None and self.sharding_required:
                    self.rejections.append(("IDENTIFY", SHARDING_REQUIRED, "Sharding required."))
                    await ws.close(code=SHARDING_REQUIRED, message=b"Sharding required.")
                    break
                if shard is not None:
                    session.shard, session.count, session.sharded = shard[0], shard[1], True
                self.sessions[session.shard] = session
                held = [g for g in self.guild_ids() if shard_of(g, session.count) == session.shard]
                await self._dispatch("READY", self._ready(session, held), session)
                for guild_id in held:
                    channels = None if guild_id == GUILD_ID else self.more_guilds[guild_id]
                    await self._dispatch("GUILD_CREATE", self._guild(guild_id, channels), session)

    def guild_ids(self) -> list[int]:
        return [GUILD_ID, *self.more_guilds]

    def session_for(self, guild_id: int | None) -> Session:
        """Where Discord sends an event: the server's shard, or shard 0 for a direct message."""
        for session in self.sessions.values():
            if session.shard == (0 if guild_id is None else shard_of(guild_id, session.count)):
                return session
        raise AssertionError(f"no connected shard holds server {guild_id}")

    async def _dispatch(
        self, name: str, data: dict[str, Any], session: Session | None = None
    ) -> None:
        if session is None:
            guild = data.get("guild_id")
            session = self.session_for(int(guild) if guild else None)
        frame = {"op": 0, "t": name, "s": next(session.seq), "d": data}
        await session.ws.send_str(json.dumps(frame))

    def _ready(self, session: Session, guilds: list[int]) -> dict[str, Any]:
        ready = {
            "v": 10,
            "user": {**BOT_USER, "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "session_id": f"fake-session-{session.shard}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
        }
        if session.sharded:
            ready["shard"] = [session.shard, session.count]
        return ready

    def _guild(
        self, guild_id: int = GUILD_ID, channels: dict[int, str] | None = None
    ) -> dict[str, Any]:
        channels = self.guild_channels if channels is None else channels
        everyone = {
            "id": str(guild_id),
            "name": "@everyone",
            "permissions": "0",
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
        }
        return {
            "id": str(guild_id),
            "name": "Recovery circle",
            "icon": None,
            "owner_id": "1",
            "roles": [everyone]
            + [{**everyone, "id": str(r), "name": f"role {r}"} for r in sorted(self.guild_roles)],
            "channels": [
                {"id": str(c), "type": 0, "name": name, "position": i}
                for i, (c, name) in enumerate(channels.items())
            ],
            "members": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "member_count": 3,
            "large": False,
            "unavailable": False,
            "threads": [],
            "voice_states": [],
            "presences": [],
            "joined_at": TIMESTAMP,
        }

    # -- REST ---------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        method = request.method
        limit_headers: dict[str, str] = {}
        try:
            body = await self._body(request)
            kind = self._kind(method, path)
            webhook = path.startswith(("/webhooks/", "/interactions/"))
            if not webhook and request.headers.get("Authorization") != f"Bot {self.token}":
                raise RefusedError(401, "401: Unauthorized", 0)
            if self.gate is not None:
                refused, limit_headers = self.gate.check(method, path, webhook)
                if refused is not None:
                    self.requests.append((method, path, 429))
                    return _json(refused, 429, limit_headers)
            if self._broken.get(kind):
                self._broken[kind] -= 1
                self.requests.append((method, path, 0))
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)  # never arrives: the connection is gone
            if self._rate_limits.get(kind):
                self._rate_limits[kind] -= 1
                self.requests.append((method, path, 429))
                wait = self._retry_after.get(kind, 0.05)
                limited = {"message": "You are being rate limited.", "retry_after": wait}
                return _json({**limited, "global": False}, 429, {"Via": "1.1 google"})
            result = await self._route(method, path, body, request)
        except RefusedError as exc:
            self.requests.append((method, path, exc.status))
            self.rejections.append((f"{method} {path}", exc.status, exc.message))
            self._changed.set()
            return _json({"message": exc.message, "code": exc.code}, exc.status)
        self.requests.append((method, path, 200 if result is not None else 204))
        self._changed.set()
        if result is None:
            return web.Response(status=204, headers=limit_headers)
        return _json(result, headers=limit_headers)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.method in ("GET", "DELETE"):
            return {}
        kind = request.content_type
        if kind == "multipart/form-data":
            form = await request.post()
            data = json.loads(str(form.get("payload_json") or "{}"))
            files = [k for k in form if k.startswith("files[")]
            data["_files"] = len(files)
            return dict(data)
        raw = await request.read()
        if not raw:
            return {}
        if request.headers.get("Content-Type") != "application/json":
            self.violations.append(f"{request.method} {request.path} sent {kind}, not JSON")
        data = json.loads(raw)
        return data if isinstance(data, dict) else {"_list": data}

    @staticmethod
    def _kind(method: str, path: str) -> str:
        if path.startswith("/interactions/"):
            return "callback"
        if path.startswith("/webhooks/"):
            return "followup"
        if path.startswith("/channels/"):
            return "dm"
        return "other"

    async def _route(
        self, method: str, path: str, body: dict[str, Any], request: web.Request
    ) -> Any:
        parts = path.strip("/").split("/")
        if path == "/users/@me" and method == "GET":
            return {**BOT_USER, "verified": True, "mfa_enabled": False, "flags": 0}
        if path == "/oauth2/applications/@me":
            return {
                "id": str(APP_ID),
                "name": "Unblend",
                "icon": None,
                "description": "",
                "rpc_origins": [],
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": APP_FLAG_MESSAGE_CONTENT if self.message_content_allowed else 0,
                "owner": {"id": "1", "username": "host", "discriminator": "0", "avatar": None},
                "team": None,
                "summary": "",
            }
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            scope = parts[3] if len(parts) == 5 else "global"
            return self._sync(scope, body)
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(int(parts[1]), parts[2], body, request)
        if parts[0] == "webhooks":
            return self._webhook(method, parts[2], parts[3:], body)
        if path == "/users/@me/channels" and method == "POST":
            user = int(body["recipient_id"])
            channel = self.dm_channels.setdefault(user, next(self._ids))
            return {"id": str(channel), "type": 1, "recipients": [{**DcUser(user, "x").to_json()}]}
        if parts[0] == "channels" and int(parts[1]) in self.gone_channels:
            raise RefusedError(404, "Unknown Channel", 10003)
        if parts[0] == "guilds" and len(parts) == 4 and parts[2] == "members" and method == "GET":
            return self._guild_member(int(parts[1]), int(parts[3]))
        if parts[0] == "channels" and len(parts) == 2 and method == "GET":
            return self._channel_info(int(parts[1]))
        if parts[0] == "channels" and parts[2] == "messages" and parts[-1] == "threads":
            return self._start_thread(method, int(parts[1]), int(parts[3]), body)
        if parts[0] == "channels" and parts[2] == "messages":
            sent = self._channel_message(method, int(parts[1]), parts[3:], body)
            if method == "POST" and len(parts) == 3:
                await self._echo(sent)
            return sent
        raise RefusedError(404, "404: Not Found", 0)

    def _guild_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        roster = self.rosters.get(guild_id)
        if roster is None and guild_id != GUILD_ID:
            raise RefusedError(404, "Unknown Guild", 10004)
        gone = user_id not in roster if roster is not None else user_id in self.left_guild
        if gone:
            raise RefusedError(404, "Unknown Member", 10007)
        return {
            "user": DcUser(user_id, f"user{user_id}").to_json(),
            "roles": [],
            "joined_at": TIMESTAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
        }

    def guild_of(self, channel_id: int) -> int | None:
        """The server a channel (or a thread started in one) belongs to; None: none we know."""
        channel_id = self.threads.get(channel_id, channel_id)
        if channel_id in self.guild_channels:
            return GUILD_ID
        for guild_id, channels in self.more_guilds.items():
            if channel_id in channels:
                return guild_id
        return self.other_channels.get(channel_id)

    def _channel_info(self, channel_id: int) -> dict[str, Any]:
        guild = self.guild_of(channel_id)
        if guild is None:
            raise RefusedError(404, "Unknown Channel", 10003)
        data: dict[str, Any] = {
            "id": str(channel_id),
            "type": 11 if channel_id in self.threads else 0,
            "guild_id": str(guild),
            "name": "check-ins",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        }
        if channel_id in self.threads:
            data["parent_id"] = str(self.threads[channel_id])
            data["owner_id"] = str(BOT_ID)
            data["thread_metadata"] = {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            }
        return data

    def _intends(self, intent: int) -> bool:
        return bool(self.identify and int(self.identify.get("intents") or 0) & intent)

    async def _echo(self, sent: dict[str, Any]) -> None:
        """As Discord does: a bot reading servers' messages gets its own posts there too."""
        channel = int(sent["channel_id"])
        if channel in self.dm_channels.values() or not self._intends(GUILD_MESSAGES_INTENT):
            return
        echoed = {**sent, "guild_id": str(GUILD_ID)}
        self.said.append(echoed)
        await self._dispatch("MESSAGE_CREATE", echoed)

    def _sync(self, scope: str, body: Any) -> list[dict[str, Any]]:
        commands = body.get("_list", [])
        out = []
        for command in commands:
            if not 1 <= len(command.get("description", "")) <= 100:
                self.violations.append(f"/{command.get('name')}: description of 1-100 needed")
            for option in command.get("options", []):
                if not 1 <= len(option.get("description", "")) <= 100:
                    self.violations.append(f"/{command['name']} {option['name']}: description")
            self._check_localizations(f"/{command.get('name')}", command)
            out.append(
                {
                    **command,
                    "id": str(next(self._ids)),
                    "application_id": str(APP_ID),
                    "version": "1",
                    "default_member_permissions": command.get("default_member_permissions"),
                }
            )
        self.commands[scope] = out
        return out

    def _check_localizations(self, where: str, item: dict[str, Any]) -> None:
        """Discord's rules for a command's, option's or choice's words in other languages: known
        locales, names of 1-32 lower-case letters, digits, - or _, texts of 1-100 characters."""
        for field_name in ("name_localizations", "description_localizations"):
            for locale, text in (item.get(field_name) or {}).items():
                if locale not in DISCORD_LOCALES:
                    self.violations.append(f"{where}: {field_name} for unknown locale {locale}")
                named = field_name == "name_localizations" and "value" not in item
                valid = (
                    bool(OPTION_NAME.fullmatch(text)) and text == text.lower()
                    if named
                    else 1 <= len(text) <= 100
                )
                if not valid:
                    self.violations.append(f"{where}: {field_name}[{locale}] = {text!r}")
        for option in item.get("options", []) or []:
            self._check_localizations(f"{where} {option.get('name')}", option)
        for choice in item.get("choices", []) or []:
            self._check_localizations(f"{where} choice {choice.get('value')}", choice)

    # -- what the bot sends -------------------------------------------------------------------

    def _check_message(self, where: str, data: dict[str, Any], creating: bool = True) -> None:
        content = data.get("content") or ""
        if len(content) > TEXT_LIMIT:
            self.violations.append(f"{where}: content of {len(content)} characters")
        if creating and not content.strip() and not data.get("_files"):
            self.violations.append(f"{where}: a message with no content")
        if data.get("allowed_mentions") != NO_MENTIONS and ("content" in data or creating):
            self.violations.append(f"{where}: allowed_mentions {data.get('allowed_mentions')}")
        _check_components(data.get("components") or [])

    def _new_message(
        self, channel_id: int, data: dict[str, Any], for_user: int | None, token: str = ""
    ) -> FakeMessage:
        message = FakeMessage(
            next(self._ids),
            channel_id,
            data.get("content") or "",
            int(data.get("flags") or 0),
            list(data.get("components") or []),
            int(data.get("_files") or 0),
            for_user,
            token,
            data.get("allowed_mentions"),
            reference=data.get("message_reference"),
        )
        self.messages[message.id] = message
        self.outbox.append(Outgoing("send", message, message.content))
        return message

    def _edit(self, message: FakeMessage, data: dict[str, Any]) -> FakeMessage:
        self._check_message(f"edit {message.id}", data, creating=False)
        if "content" in data:
            message.content = data["content"] or ""
        if "components" in data:
            message.components = list(data["components"] or [])
        message.edits += 1
        self.outbox.append(Outgoing("edit", message, message.content))
        return message

    def _pending(self, token: str) -> Pending:
        for p in self.interactions.values():
            if p.token == token:
                if p.expired:
                    raise RefusedError(401, "Invalid Webhook Token", 50027)
                return p
        raise RefusedError(404, "Unknown Webhook", 10015)

    def _callback(
        self, interaction_id: int, token: str, body: dict[str, Any], request: web.Request
    ) -> Any:
        pending = self.interactions.get(interaction_id)
        if pending is None or pending.token != token:
            raise RefusedError(404, "Unknown interaction", 10062)
        if pending.expired:
            raise RefusedError(404, "Unknown interaction", 10062)
        if pending.answered:
            raise RefusedError(400, "Interaction has already been acknowledged.", 40060)
        kind = int(body.get("type", 0))
        data = dict(body.get("data") or {})
        if "_files" in body:
            data["_files"] = body["_files"]
        # A refused answer is no answer: the interaction still waits for one.
        if kind == 4:
            self._check_message(f"callback {interaction_id}", data)
        elif kind == 9:
            _check_modal(data)
        elif kind == 8:
            _check_suggestions(list(data.get("choices") or []))
        waited = asyncio.get_running_loop().time() - pending.dispatched_at
        if waited > FIRST_ANSWER_SECONDS:
            self.violations.append(f"interaction {interaction_id} answered after {waited:.1f}s")
        pending.answered = kind
        info: dict[str, Any] = {"id": str(interaction_id), "type": 2}
        result: dict[str, Any] = {"interaction": info}
        if kind == 4:
            message = self._new_message(pending.channel_id, data, pending.user.id, token)
            pending.original = message.id
            info["response_message_id"] = str(message.id)
            info["response_message_ephemeral"] = message.ephemeral
            result["resource"] = {"type": 4, "message": message.to_json()}
        elif kind == 5:
            # "Unblend is thinking...": a message already, visible as the deferral says.
            flags = int(data.get("flags") or 0) & EPHEMERAL
            placeholder = FakeMessage(
                next(self._ids),
                pending.channel_id,
                "",
                flags,
                for_user=pending.user.id,
                interaction_token=token,
                loading=True,
            )
            self.messages[placeholder.id] = placeholder
            pending.original = placeholder.id
            info["response_message_id"] = str(placeholder.id)
            info["response_message_loading"] = True
            info["response_message_ephemeral"] = bool(flags)
        elif kind == 9:
            pending.modal = data
            self._changed.set()
        elif kind == 8:
            pending.suggestions = list(data.get("choices") or [])
            self._changed.set()
        elif kind not in (6, 7):
            self.violations.append(f"interaction {interaction_id}: callback type {kind}")
        return result if request.query.get("with_response") else None

    def _webhook(self, method: str, token: str, rest: list[str], body: dict[str, Any]) -> Any:
        pending = self._pending(token)
        if not pending.answered:
            self.violations.append("a follow-up before the interaction was answered")
        placeholder = self.messages.get(pending.original) if pending.original else None
        if method == "POST" and not rest:
            self._check_message("follow-up", body)
            if placeholder is not None and placeholder.loading:
                # Discord: the first follow-up after a deferral *is* the deferred answer. It
                # fills the placeholder, which keeps its own visibility whatever the
                # follow-up's flags say.
                placeholder.loading = False
                placeholder.content = body.get("content") or ""
                placeholder.components = list(body.get("components") or [])
                placeholder.attachments = int(body.get("_files") or 0)
                placeholder.allowed_mentions = body.get("allowed_mentions")
                self.outbox.append(Outgoing("send", placeholder, placeholder.content))
                return placeholder.to_json()
            message = self._new_message(pending.channel_id, body, pending.user.id, token)
            return message.to_json()
        if len(rest) == 2 and rest[0] == "messages" and method in ("PATCH", "DELETE"):
            if rest[1] == "@original":
                if placeholder is None:
                    raise RefusedError(404, "Unknown Message", 10008)
                message = placeholder
            else:
                message = self.messages.get(int(rest[1]))  # type: ignore[assignment]
                if message is None or message.interaction_token != token:
                    raise RefusedError(404, "Unknown Message", 10008)
            if method == "DELETE":
                self.deleted.append(self.messages.pop(message.id))
                self._changed.set()
                return None
            if message.loading:
                message.loading = False
                self._check_message(f"edit {message.id}", body)
            return self._edit(message, body).to_json()
        raise RefusedError(404, "404: Not Found", 0)

    def _channel_message(
        self, method: str, channel_id: int, rest: list[str], body: dict[str, Any]
    ) -> Any:
        users = [u for u, c in self.dm_channels.items() if c == channel_id]
        if method == "POST" and not rest:
            if users and users[0] in self.closed_dms:
                raise RefusedError(403, "Cannot send messages to this user", 50007)
            self._check_message(f"channel {channel_id}", body)
            return self._new_message(channel_id, body, users[0] if users else None).to_json()
        if method == "PATCH" and rest:
            message = self.messages.get(int(rest[0]))
            if message is None or message.channel_id != channel_id:
                raise RefusedError(404, "Unknown Message", 10008)
            return self._edit(message, body).to_json()
        if method == "DELETE" and rest:
            # A bot may delete its own messages at any age (no 48-hour limit as on Telegram).
            message = self.messages.get(int(rest[0]))
            if message is None or message.channel_id != channel_id:
                raise RefusedError(404, "Unknown Message", 10008)
            self.deleted.append(self.messages.pop(message.id))
            return None
        raise RefusedError(404, "404: Not Found", 0)

    def _start_thread(
        self, method: str, channel_id: int, message_id: int, body: dict[str, Any]
    ) -> Any:
        """POST /channels/{channel}/messages/{message}/threads: a thread on that message."""
        message = self.messages.get(message_id)
        if method != "POST" or message is None or message.channel_id != channel_id:
            raise RefusedError(404, "Unknown Message", 10008)
        if self.threads_forbidden:
            raise RefusedError(403, "Missing Permissions", 50013)
        if message_id in self.threads:
            raise RefusedError(400, "A thread has already been created for this message", 160004)
        if channel_id in self.threads:
            raise RefusedError(400, "Cannot execute action on this channel type", 50024)
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            self.violations.append(f"thread on {message_id}: a name of {len(name)} characters")
        self.threads[message_id] = channel_id
        return {
            "id": str(message_id),
            "type": 11,
            "guild_id": str(self.guild_of(channel_id) or GUILD_ID),
            "parent_id": str(channel_id),
            "owner_id": str(BOT_ID),
            "name": name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": int(body.get("auto_archive_duration") or 1440),
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            },
        }

    # -- what members do ----------------------------------------------------------------------

    async def interact(
        self,
        user: DcUser,
        kind: int,
        data: dict[str, Any],
        guild: bool = False,
        message: FakeMessage | None = None,
        permissions: int = 0,
        roles: tuple[int, ...] = (),
        place: tuple[int, int] | None = None,
        shards: tuple[int, ...] = (),
    ) -> Pending:
        """`guild`: from the server's check-ins channel; `place`: (server, channel) instead.
        `shards`: sent to these shards' connections, whatever Discord's rule says (a misrouted
        or forged copy); by default to the one the rule names."""
        interaction_id = next(self._ids)
        token = f"tok{interaction_id}"
        dm = self.dm_channels.setdefault(user.id, next(self._ids))
        guild_id, channel_id = place or ((GUILD_ID, CHANNEL_ID) if guild else (0, dm))
        guild = guild_id != 0
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": str(channel_id),
            "locale": user.locale,
            "app_permissions": "0",
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
            "authorizing_integration_owners": {"0": str(guild_id)} if guild else {},
            "context": 0 if guild else 1,
        }
        if guild:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "en-US"
            payload["channel"] = {
                "id": str(channel_id),
                "type": 0,
                "name": "check-ins",
                "guild_id": str(guild_id),
                "position": 0,
            }
            payload["member"] = {
                "user": user.to_json(),
                "roles": [str(r) for r in roles],
                "permissions": str(permissions),
                "joined_at": TIMESTAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        else:
            payload["channel"] = {"id": str(channel_id), "type": 1, "recipients": [user.to_json()]}
            payload["user"] = user.to_json()
        if message is not None:
            payload["message"] = message.to_json()
        loop = asyncio.get_running_loop()
        pending = Pending(interaction_id, token, user, channel_id, loop.time())
        self.interactions[interaction_id] = pending
        if not shards:
            await self._dispatch("INTERACTION_CREATE", payload)
        for shard in shards:
            await self._dispatch("INTERACTION_CREATE", payload, self.sessions[shard])
        return pending

    async def say(
        self,
        user: DcUser,
        text: str,
        channel_id: int = CHANNEL_ID,
        dm: bool = False,
        bot: bool = False,
        always: bool = False,
    ) -> bool:
        """A member's ordinary message in the server's channel (or, `dm`, to the bot directly).

        Dispatched as Discord does: only to a bot that asked for those messages (servers:
        GUILD_MESSAGES; direct: DIRECT_MESSAGES), with the text only under MESSAGE_CONTENT.
        `always` sends it regardless, to test the bot's own filtering. False: not dispatched.
        """
        wanted = DIRECT_MESSAGES_INTENT if dm else GUILD_MESSAGES_INTENT
        if not (always or self._intends(wanted)):
            return False
        channel = self.dm_channels.setdefault(user.id, next(self._ids)) if dm else channel_id
        payload: dict[str, Any] = {
            "id": str(next(self._ids)),
            "channel_id": str(channel),
            "type": 0,
            "content": text if always or self._intends(MESSAGE_CONTENT_INTENT) else "",
            "author": {**user.to_json(), "bot": bot},
            "attachments": [],
            "embeds": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "flags": 0,
            "components": [],
        }
        if not dm:
            payload["guild_id"] = str(GUILD_ID)
            payload["member"] = {
                "roles": [],
                "joined_at": TIMESTAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        self.said.append(payload)
        await self._dispatch("MESSAGE_CREATE", payload)
        return True

    def command_id(self, name: str) -> str:
        for scope in self.commands.values():
            for command in scope:
                if command["name"] == name:
                    return str(command["id"])
        raise AssertionError(f"/{name} was not synced")


@dataclass(frozen=True)
class Channel:
    """A channel picked in a slash command's channel option."""

    id: int
    name: str = "check-ins"

    def to_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": 0, "name": self.name, "permissions": "0"}


class Member:
    """A Discord member in the tests: slash commands, taps by label, forms, what they see."""

    def __init__(self, fake: FakeDiscord, user_id: int, name: str) -> None:
        self.fake = fake
        self.user = DcUser(user_id, name)
        self.seen = 0
        self.last: Pending | None = None

    async def slash(
        self,
        name: str,
        guild: bool = False,
        permissions: int = 0,
        sub: str = "",
        roles: tuple[int, ...] = (),
        **options: Any,
    ) -> Pending:
        """A slash command; `sub` names a subcommand; a `Channel(id)` value is a channel option."""
        types = {bool: 5, int: 4, str: 3, Channel: 7}
        given = [
            {"name": k, "type": types[type(v)], "value": str(v.id) if isinstance(v, Channel) else v}
            for k, v in options.items()
        ]
        data: dict[str, Any] = {
            "id": self.fake.command_id(name),
            "name": name,
            "type": 1,
            "options": [{"name": sub, "type": 1, "options": given}] if sub else given,
        }
        channels = [v for v in options.values() if isinstance(v, Channel)]
        if channels:
            data["resolved"] = {"channels": {str(c.id): c.to_json() for c in channels}}
        self.last = await self.fake.interact(
            self.user, 2, data, guild, permissions=permissions, roles=roles
        )
        return self.last

    async def autocomplete(
        self, name: str, sub: str, option: str, typed: str, **others: Any
    ) -> list[dict[str, Any]]:
        """Types `typed` into a (sub)command's option in a server; returns the suggestions."""
        given = [{"name": k, "type": 3, "value": v} for k, v in others.items()]
        given.append({"name": option, "type": 3, "value": typed, "focused": True})
        data = {
            "id": self.fake.command_id(name),
            "name": name,
            "type": 1,
            "options": [{"name": sub, "type": 1, "options": given}] if sub else given,
        }
        pending = await self.fake.interact(self.user, 4, data, True, permissions=32)
        found: tuple[list[dict[str, Any]]] = await self.fake.wait_for(
            lambda: (pending.suggestions,) if pending.suggestions is not None else None
        )
        return found[0]

    def visible(self) -> list[FakeMessage]:
        mine = self.fake.dm_channels.get(self.user.id)
        return [
            m
            for m in self.fake.messages.values()
            if m.for_user == self.user.id
            or m.channel_id == mine
            or (m.channel_id == CHANNEL_ID and not m.ephemeral)
            or self.fake.threads.get(m.channel_id) == CHANNEL_ID
        ]

    def _find(self, label: str) -> tuple[FakeMessage, dict[str, Any], str]:
        for message in sorted(self.visible(), key=lambda m: m.id, reverse=True):
            for comp in message.buttons():
                if comp.get("type") == 2 and comp.get("label") == label:
                    return message, comp, ""
                for option in comp.get("options", []) if comp.get("type") == 3 else []:
                    if option.get("label") == label:
                        return message, comp, str(option["value"])
        labels = [
            c.get("label") or [o["label"] for o in c.get("options", [])]
            for m in self.visible()
            for c in m.buttons()
        ]
        raise AssertionError(f"no button {label!r}; there are {labels}")

    async def tap(self, label: str, message: FakeMessage | None = None) -> Pending:
        """Taps a button (or picks a select option) by label on the newest message with it."""
        if message is None:
            message, comp, value = self._find(label)
        else:
            comp = next(c for c in message.buttons() if c.get("label") == label)
            value = ""
        data: dict[str, Any] = {"custom_id": comp["custom_id"], "component_type": comp["type"]}
        if comp["type"] == 3:
            data["values"] = [value]
        guild = message.channel_id == CHANNEL_ID
        self.last = await self.fake.interact(self.user, 3, data, guild, message)
        return self.last

    async def write(self, text: str, within: float = 10.0) -> Pending:
        """Taps the form button, waits for the form, fills it in and submits it."""
        opened = await self.tap(self.fake_label_write())
        modal = await self.fake.wait_for(lambda: opened.modal, within)
        field_id = modal["components"][0]["components"][0]["custom_id"]
        data = {
            "custom_id": modal["custom_id"],
            "components": [
                {"type": 1, "components": [{"type": 4, "custom_id": field_id, "value": text}]}
            ],
        }
        self.last = await self.fake.interact(self.user, 5, data)
        return self.last

    write_label = "Write it"

    def fake_label_write(self) -> str:
        return self.write_label

    async def expect(self, fragment: str, within: float = 10.0) -> Outgoing:
        """The next message (or edit) this member can see containing `fragment`."""
        mine = {m.id for m in self.visible()}

        def find() -> Outgoing | None:
            seen = {m.id for m in self.visible()} | mine
            for i in range(self.seen, len(self.fake.outbox)):
                out = self.fake.outbox[i]
                if out.message.id in seen and fragment in out.text:
                    self.seen = i + 1
                    return out
            return None

        try:
            found: Outgoing = await self.fake.wait_for(find, within)
        except AssertionError:
            got = [o.text[:80] for o in self.fake.outbox[self.seen :]]
            raise AssertionError(
                f"no message with {fragment!r}; got {got}; violations {self.fake.violations}; "
                f"rejected {self.fake.rejections}"
            ) from None
        return found
