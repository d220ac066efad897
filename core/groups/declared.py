"""The group settings a feature declares without storage of its own: kept by name, read here."""

from __future__ import annotations

from core.groups.ports import GroupRepo
from core.kernel.feature import GroupSetting


async def setting_value(groups: GroupRepo, group_id: int, setting: GroupSetting) -> str:
    """The group's value of a declared setting, or its default until a moderator set one."""
    stored = await groups.setting(group_id, setting.name)
    return setting.default if stored is None else stored
