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
from core.kernel.content import KERNEL_MESSAGES
from core.kernel.feature import Command, Feature, Where
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

# What the app itself answers: safety never waits for paperwork, /help, /start and the flow
# words. Their handlers are the app's (core/app.py); declared here like any feature's.
CORE = Feature(
    name="core",
    commands={
        "crisis": Command(where=Where.MEMBER, takes_args=False),
        "sos": Command(where=Where.MEMBER, takes_args=False, listed=False),
        "help": Command(where=Where.GROUP, takes_args=False),
        "start": Command(takes_args=False, listed=False),
        "stop": Command(takes_args=False, listed=False),
        "back": Command(takes_args=False, listed=False),
        "skip": Command(takes_args=False, listed=False),
    },
    # The app's, the turn's and the flow engine's own texts.
    messages={
        **KERNEL_MESSAGES,
        "help.text": "",
        "concern.note": "",
        "screening.gentle_check": "",
        "error.internal": "",
        # groups and the command menu (issue 4: Telegram adapter)
        "groups.private_link": "command",
        "groups.open_button": "",
        "groups.crisis_start": "",
        "groups.start_bot": "",
        "commands.crisis": "",
        "commands.help": "",
        "commands.start": "",
        "limits.slow_down": "",
        "limits.args_too_long": "limit words",
        # hygiene (issue 12): taps and typed text held back when they come too fast
        "limits.slow_down_input": "",
    },
    # Who a member is, their flow in progress and their name, kept by the kernel.
    member_data=("members", "sessions", "names"),
)
