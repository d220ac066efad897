"""Every feature the core offers. A new feature is a module here and one line below."""

from __future__ import annotations

from core.features import (
    checkin,
    country,
    grounding,
    language,
    parts,
    privacy,
    safety_plan,
    support,
    welcome,
)
from core.features import days as day_counters
from core.features import group_checkins as group_checkins
from core.features import history as history
from core.features import reachout as reachout
from core.features.base import Feature

ALL_FEATURES: tuple[Feature, ...] = (
    welcome.FEATURE,
    checkin.FEATURE,
    history.FEATURE,
    grounding.FEATURE,
    parts.FEATURE,
    safety_plan.FEATURE,
    day_counters.FEATURE,
    privacy.FEATURE,
    country.FEATURE,
    language.FEATURE,
    support.FEATURE,
    group_checkins.FEATURE,
    reachout.FEATURE,
)
