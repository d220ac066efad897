"""Who may use moderator commands: Discord's Manage Server, or a configured moderator role.

`default_member_permissions` (Manage Server) hides a moderator command from everyone else in
Discord's menu; server admins can change that in Server Settings -> Integrations, so the bot
checks again at run time. `moderator_command` puts both on a command.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord
from discord import app_commands

MODERATOR_PERMISSIONS = discord.Permissions(manage_guild=True)


def is_moderator(permissions: discord.Permissions, role_ids: Iterable[int], role: int = 0) -> bool:
    """Manage Server (or Administrator), or holding the configured moderator role."""
    if permissions.administrator or permissions.manage_guild:
        return True
    return bool(role) and role in set(role_ids)


def interaction_is_moderator(interaction: discord.Interaction, role: int = 0) -> bool:
    """Only in a server: a direct message has no moderators."""
    user = interaction.user
    if interaction.guild_id is None or not isinstance(user, discord.Member):
        return False
    return is_moderator(interaction.permissions, (r.id for r in user.roles), role)


class NotModerator(app_commands.CheckFailure):
    """Raised by the run-time check; the adapter answers it kindly and privately."""


def moderator_command(
    command: app_commands.Command[Any, ..., Any], role: int = 0
) -> app_commands.Command[Any, ..., Any]:
    command.default_permissions = MODERATOR_PERMISSIONS
    command.guild_only = True

    async def check(interaction: discord.Interaction) -> bool:
        if not interaction_is_moderator(interaction, role):
            raise NotModerator()
        return True

    command.add_check(check)
    return command
