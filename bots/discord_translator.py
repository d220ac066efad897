"""Slash commands in every shipped language (issue 16), through discord.py's Translator.

Command names stay English (they are what members type and what the core reads). Each
description carries its content key (`describe` in discord_commands); this translator looks the
key up in the locale's catalog when the commands are synced, so Discord shows the description,
the options' names and descriptions and the choices' names in the member's app language.
Every Discord locale that maps to a shipped locale gets it: es-ES and es-419 both get content/es.
Nothing here is hard-coded text: a new language is a folder in content/.
"""

from __future__ import annotations

import re

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from core.api import FALLBACK_LOCALE, OPTION_NAME_PREFIX, Languages

DESCRIPTION_LIMIT = 100  # also a choice's name
# Discord's rule for an option's name: lower case where a letter has a case, no spaces.
OPTION_NAME = re.compile(r"[-_\w]{1,32}")


def option_name(text: str) -> str | None:
    name = text.strip()
    return name if OPTION_NAME.fullmatch(name) and name == name.lower() else None


def shortened(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ContentTranslator(app_commands.Translator):
    def __init__(self, languages: Languages) -> None:
        self.languages = languages

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        code = self.languages.match(str(locale.value))
        if code is None or code == FALLBACK_LOCALE:
            return None  # Discord shows the English default
        messages = self.languages.catalog(code).messages
        where = context.location
        if where is TranslationContextLocation.parameter_name:
            named = messages.get(f"{OPTION_NAME_PREFIX}{string.message}", "")
            name = option_name(named)
            return name if name and name != string.message else None
        if where in (
            TranslationContextLocation.command_name,
            TranslationContextLocation.group_name,
        ):
            return None  # names stay as members type them
        key = string.extras.get("key")
        text = messages.get(key, "") if isinstance(key, str) else ""
        return shortened(text) if text.strip() else None
