"""Discord's side of /forget (issue 7): take a shared line the bot posted back out of a group.

A message is reached by its `<channel id>/<message id>` reference (bots/discord_groups.py);
Discord lets a bot delete its own messages at any age, so there is no time window.
"""

from __future__ import annotations

import logging

import aiohttp
import discord
import discord.http

from bots.discord_groups import message_place
from core.api import DeleteStatus

__all__ = ["DeleteStatus", "delete_posted"]

log = logging.getLogger(__name__)


async def delete_posted(http: discord.http.HTTPClient, message_ref: str) -> DeleteStatus:
    """DELETE /channels/{channel}/messages/{message}; how it went, never raising."""
    place = message_place(message_ref)
    if place is None:
        return DeleteStatus.FAILED
    try:
        await http.delete_message(*place)
    except discord.NotFound:
        return DeleteStatus.GONE  # deleted already (by a moderator), or its channel is gone
    except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning("Discord: a shared line could not be deleted (%s)", type(exc).__name__)
        return DeleteStatus.FAILED
    return DeleteStatus.DELETED
