"""The ports of /language: the views of the app's stores and services /language uses."""

from __future__ import annotations

from typing import Protocol, cast

from core.kernel.turn import Host
from core.language.languages import Languages


class LanguageHost(Host, Protocol):
    """What /language uses of the app besides the kernel's."""

    @property
    def languages(self) -> Languages: ...


def host(app: Host) -> LanguageHost:
    """The app seen as /language uses it: core/app.py proves Unblend fits."""
    return cast(LanguageHost, app)
