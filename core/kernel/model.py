"""The small, platform-free vocabulary every adapter speaks with the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SpaceKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True)
class Space:
    """Where an event happened: a private chat with the bot, or a group/channel."""

    kind: SpaceKind
    id: str

    @classmethod
    def private(cls, id: str) -> Space:
        return cls(SpaceKind.PRIVATE, id)

    @classmethod
    def group(cls, id: str) -> Space:
        return cls(SpaceKind.GROUP, id)


@dataclass(frozen=True)
class Event:
    """One thing a member did: a command, a tap on a choice, or free text.

    Exactly one of `command`, `choice` or `text` is set. Only the adapter makes something a
    command, where the platform says it is one (a Telegram bot_command entity, a Discord slash
    command, a console line starting with "/"); the core never reads free text as a command.
    """

    platform: str
    user_id: str
    space: Space
    command: str | None = None
    args: tuple[str, ...] = ()
    choice: str | None = None
    text: str | None = None
    # The platform's language tag for the member, as it gave it ("es-419"; "" when it gave
    # none). Untrusted: the core maps it to a shipped locale only (core.language.languages).
    locale: str = ""
    display_name: str = ""
    # Set by the adapter: whether this member moderates the group the event came from
    # (Telegram: a chat admin; Discord: Manage Server or the moderator role).
    is_moderator: bool = False
    # Set by an adapter whose platform can show a reply to this member alone, right where they
    # typed (Discord's ephemeral messages): a private command typed in a group then runs
    # there, privately, flow and all, rather than answering with a public line and a link
    # into the private chat (what a Telegram group gets: it has no such messages).
    can_reply_privately_in_place: bool = False
    # Set by the adapter when it could not ask the platform whether the member moderates
    # (Telegram's getChatAdministrators failed): moderator actions get a kind "try again".
    moderator_unknown: bool = False
    # The group the platform says a privately answered event came from (Discord: a button
    # tapped inside a server; its answer stays ephemeral). "" from a private chat.
    from_group: str = ""


@dataclass(frozen=True)
class Choice:
    """A button. `id` is short and stable (<= 64 bytes) so it survives restarts."""

    id: str
    label: str


@dataclass(frozen=True)
class Reply:
    """Something the bot says. `private` replies are only ever shown to the member."""

    text: str
    choices: tuple[Choice, ...] = ()
    private: bool = True
    image: bytes | None = None
    image_alt: str = ""
    # A file for the member to keep (their /export): sent as a document, `text` rides along.
    file: bytes | None = None
    file_name: str = ""
    # Set when the bot waits for free text, so an adapter can open a text form (Discord modal).
    expects_text: bool = False
    text_max: int = 0
    # Replies with the same non-empty key may replace the previous one in place (paced steps).
    replace_key: str = ""
    # A button that opens this command in the member's private chat with the bot (a group's
    # answer to a private command). The payload is a command name: [A-Za-z0-9_-], <= 64 chars.
    private_link: str = ""
    # For a private reply to something done in a group: what the group may see instead when
    # the platform cannot reach the member privately. Never holds anything the member said.
    group_fallback: Reply | None = None
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


MAX_CHOICE_ID_BYTES = 64
MAX_LINK_PAYLOAD = 64
