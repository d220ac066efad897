"""`[discord] shard_count` and `shard_ids`: which Discord shards this process connects.

Several processes share one bot by each taking part of the shards (issue 17). The values may
come from the environment too, so one config file serves every process and each is started
with its own `UNBLEND_DISCORD_SHARD_IDS`. Checked here so a wrong value stops the start with a
message saying what to write, before anything connects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.kernel.problems import Problems

COUNT_ENV = "UNBLEND_DISCORD_SHARD_COUNT"
IDS_ENV = "UNBLEND_DISCORD_SHARD_IDS"
# Far beyond any bot's need (Discord: at most 2,500 servers a shard), low enough to catch a typo.
SHARD_COUNT_MAX = 10_000
COUNT_EXAMPLE = "Example: shard_count = 4"
IDS_EXAMPLE = "Example: shard_ids = [0, 1]"


def check_shards(
    values: dict[tuple[str, str], Any], where: str, env: Mapping[str, str], problems: Problems
) -> None:
    """Checks the shard keys (taking the environment's over the file's) into `values`."""
    count_from = _from_env(values, ("discord", "shard_count"), env, COUNT_ENV, where, problems)
    ids_from = _from_env(values, ("discord", "shard_ids"), env, IDS_ENV, where, problems)
    count = values.get(("discord", "shard_count"), 0)
    ids = values.get(("discord", "shard_ids"), [])
    if not isinstance(count, int) or not isinstance(ids, list):
        return  # already told: a wrong type
    if not 0 <= count <= SHARD_COUNT_MAX:
        problems.add(
            count_from,
            "[discord] shard_count",
            f"must be from 0 (no shards) to {SHARD_COUNT_MAX}, got {count}. {COUNT_EXAMPLE}",
        )
        return
    wrong = [i for i in ids if not isinstance(i, int) or isinstance(i, bool)]
    if wrong:
        problems.add(
            ids_from,
            "[discord] shard_ids",
            f"must hold whole numbers only, got {type(wrong[0]).__name__}. {IDS_EXAMPLE}",
        )
        return
    if any(p.key == "[discord] shard_count" for p in problems.items):
        return  # the count was wrong (told already): the ids cannot be checked against it
    if ids and count == 0:
        problems.add(
            ids_from,
            "[discord] shard_ids",
            "needs shard_count, how many shards the whole bot has across every process. "
            "Example: shard_count = 2 and shard_ids = [0] here, shard_ids = [1] in the other",
        )
        return
    outside = sorted({i for i in ids if not 0 <= i < count})
    if outside:
        shown = ", ".join(str(i) for i in outside)
        problems.add(
            ids_from,
            "[discord] shard_ids",
            f"has {shown}, outside 0 to {count - 1} (shard_count = {count} shards are numbered "
            f"from 0). {IDS_EXAMPLE}",
        )
    elif len(set(ids)) != len(ids):
        problems.add(ids_from, "[discord] shard_ids", f"names a shard twice. {IDS_EXAMPLE}")


def _from_env(
    values: dict[tuple[str, str], Any],
    key: tuple[str, str],
    env: Mapping[str, str],
    var: str,
    where: str,
    problems: Problems,
) -> str:
    """Takes `var` into `values` when set; returns where the value came from (for messages)."""
    raw = env.get(var, "").strip()
    if not raw:
        return where
    words = raw.replace(",", " ").split()
    numbers = [_whole(w) for w in words]
    if None in numbers or (key[1] == "shard_count" and len(numbers) != 1):
        shape = "one whole number, like 4" if key[1] == "shard_count" else 'numbers like "0,1"'
        problems.add(f"${var}", f"[discord] {key[1]}", f"must be {shape}")
        values[key] = None  # nothing more to check
        return f"${var}"
    values[key] = numbers[0] if key[1] == "shard_count" else numbers
    return f"${var}"


def _whole(word: str) -> int | None:
    text = word[1:] if word.startswith("-") else word
    if not (text.isascii() and text.isdigit()):
        return None
    return int(word)
