"""The command menu a platform shows (Telegram's setMyCommands), per kind of chat."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum

from core.kernel.catalog import Catalog
from core.kernel.feature import Command

# Platform limits the menu keeps to (Telegram's, the strictest of ours).
MENU_NAME = re.compile(r"[a-z0-9_]{1,32}")
MAX_DESCRIPTION = 256

FIRST = ("checkin", "ground", "history")
LAST = ("consent", "crisis", "help")
# Aliases, paperwork and flow words work everywhere but would crowd the menu.
HIDDEN = frozenset({"sos", "start", "stop", "back", "skip"})
# In a group every private command answers with a button into the private chat, so the
# menu there lists the same commands, minus those that only make sense one to one.
GROUP_HIDDEN = frozenset({"consent"})


class MenuScope(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    GROUP_ADMIN = "group_admin"


def command_menu(
    catalog: Catalog, commands: Iterable[str] | Mapping[str, Command], scope: MenuScope
) -> list[tuple[str, str]]:
    """(name, description) for each command with a `commands.<name>` text, in menu order.

    Given the features' declarations (`app.registry.declared`), they say what is listed and
    where; given names only, HIDDEN and GROUP_HIDDEN do (tests/test_groups.py checks that the
    two agree)."""
    if isinstance(commands, Mapping):
        hidden = {n for n, c in commands.items() if not c.listed or c.button_only}
        group_hidden = {n for n, c in commands.items() if not c.group_menu}
    else:
        hidden, group_hidden = set(HIDDEN), set(GROUP_HIDDEN)
    known = [*dict.fromkeys([*commands, "crisis", "help"])]
    middle = [c for c in known if c not in FIRST and c not in LAST]
    ordered = [c for c in (*FIRST, *middle, *LAST) if c in known]
    menu: list[tuple[str, str]] = []
    for name in ordered:
        if name in hidden or (scope is not MenuScope.PRIVATE and name in group_hidden):
            continue
        description = catalog.messages.get(f"commands.{name}", "").strip()
        if description and MENU_NAME.fullmatch(name):
            menu.append((name, description[:MAX_DESCRIPTION]))
    return menu
