"""The ports of a group's safety settings: the views of the app's stores and services they use."""

from __future__ import annotations

from typing import Protocol, cast

from core.groups.ports import GroupRepo
from core.kernel.ports import Stores


class ScreeningStores(Stores, Protocol):
    """The stores a group's safety settings use."""

    @property
    def groups(self) -> GroupRepo: ...


def stores(repos: Stores) -> ScreeningStores:
    """`repos` seen as a group's safety settings use it: core/repos.py proves Repos fits."""
    return cast(ScreeningStores, repos)
