"""Opt-in reading of a server's ordinary messages (`[discord] read_messages`, issue 7 item 4).

Discord gives a bot the text of a server's messages only when it asks for the privileged
Message Content intent, which must first be switched on in the Developer Portal; otherwise the
gateway closes with 4014. So the bot asks for it only when `read_messages` is on. Then each
member's message in a server goes to the core as text in that server's group space (the same
Space its slash commands use); the core reads it only where the moderators turned screening on
(`/group settings screening on`). A crisis reply goes to the member as a direct message; when
their direct messages are closed, the reply's group fallback (the lines, never their words) is
posted in the channel. Nothing of a message is logged, and discord.py keeps no message cache.
"""

from __future__ import annotations

import discord

from bots.discord_commands import PLATFORM
from bots.discord_render import split_text
from core.api import Event, Reply, Space

NO_MENTIONS = discord.AllowedMentions.none()
# Ordinary messages and replies; joins, pins, boosts and the like carry nothing to read.
READ_TYPES = (discord.MessageType.default, discord.MessageType.reply)
DISALLOWED_INTENTS = (
    "Discord refused the Message Content intent (gateway close 4014). [discord] read_messages "
    "= true needs it: in the Developer Portal open your application -> Bot and switch on "
    "Message Content Intent, or set [discord] read_messages = false (the bot then works from "
    "slash commands, buttons and forms only, and does not read a server's conversation)."
)


def gateway_intents(read_messages: bool) -> discord.Intents:
    """Servers and channels only; with `read_messages`, also servers' messages and their text.

    Direct messages are never asked for: there, commands are the way to talk to the bot.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    if read_messages:
        intents.guild_messages = True
        intents.message_content = True
    return intents


def message_event(message: discord.Message, own_id: int | None) -> Event | None:
    """The core's Event for a member's message in a server; None for everything not read:
    direct messages, bots (this one included), webhooks, system messages, no text."""
    author = message.author
    if (
        message.guild is None
        or author.bot
        or author.system
        or author.id == own_id
        or message.webhook_id is not None
        or message.type not in READ_TYPES
        or not message.content.strip()
    ):
        return None
    return Event(
        PLATFORM,
        str(author.id),
        Space.group(str(message.guild.id)),
        text=message.content,
        display_name=author.display_name,
    )


async def post_in_channel(client: discord.Client, channel_id: int, reply: Reply) -> None:
    """A public reply in the channel (or thread) the message came from: text only, no mentions,
    and not as a reply to the member's message, so their words are never quoted."""
    channel = client.get_partial_messageable(channel_id)
    for piece in split_text(reply.text):
        await channel.send(piece, allowed_mentions=NO_MENTIONS)
