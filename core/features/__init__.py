"""Every feature the core offers. A new feature is a module here and one line below."""

from __future__ import annotations

from core.features import checkin, grounding, parts, safety_plan, welcome
from core.features import days as day_counters
from core.features.base import Feature

ALL_FEATURES: tuple[Feature, ...] = (
    welcome.FEATURE,
    checkin.FEATURE,
    grounding.FEATURE,
    parts.FEATURE,
    safety_plan.FEATURE,
    day_counters.FEATURE,
)
