"""Every feature the core offers, found by itself: each capability package's `feature.py`
(`FEATURE`, or `FEATURES` where a package offers more than one), in their declared `order`.
A new feature is a package with a `feature` module; nothing here names it."""

from __future__ import annotations

import importlib
from pathlib import Path

from core.kernel.content import KERNEL_MESSAGES
from core.kernel.feature import Command, Feature, Where

CORE_DIR = Path(__file__).resolve().parent
# Packages that declare no feature: the kernel (its feature.py is the declaration itself),
# storage and the crisis detector.
NOT_FEATURES = frozenset({"kernel", "storage", "safety"})


def feature_modules(root: Path = CORE_DIR) -> list[str]:
    """The dotted name of every capability's `feature` module, in path order."""
    found = []
    for path in sorted(root.glob("**/feature.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[0] not in NOT_FEATURES and "__pycache__" not in parts:
            found.append(".".join(("core", *parts)))
    return found


def discover(modules: list[str] | None = None) -> tuple[Feature, ...]:
    """Every feature those modules declare, by `order`, then name."""
    features: list[Feature] = []
    for name in feature_modules() if modules is None else modules:
        module = importlib.import_module(name)
        declared = getattr(module, "FEATURES", None) or (getattr(module, "FEATURE", None),)
        for feature in declared:
            if not isinstance(feature, Feature):
                raise TypeError(f"{name} declares no Feature (FEATURE or FEATURES)")
            features.append(feature)
    return tuple(sorted(features, key=lambda f: (f.order, f.name)))


ALL_FEATURES: tuple[Feature, ...] = discover()

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
