"""Every feature the core offers. A new feature is a package with a `feature` module and one
line below."""

from __future__ import annotations

from core.checkin import feature as checkin
from core.crisis import country
from core.crisis import feature as support
from core.days import feature as day_counters
from core.grounding import feature as grounding
from core.groups.checkins import feature as group_checkins
from core.groups.reachouts import feature as reachout
from core.history import feature as history
from core.kernel.feature import Feature
from core.language import feature as language
from core.parts import feature as parts
from core.privacy import feature as privacy
from core.safety_plan import feature as safety_plan
from core.welcome import feature as welcome

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
