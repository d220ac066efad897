"""Three `unblend run` processes on one throw-away PostgreSQL database, 1,000 Telegram groups due
in the same minute, the sending process SIGKILLed mid fan-out (tests/multinode_rig.py).

    .venv/bin/python bench/multinode.py [--groups 1000] [--processes 3] [--platform discord]

The last line is JSON: processes, killed, lost, duplicates, achieved_per_s, allowed_per_s (the
fake Bot API's real limit, 30/s) and more. Targets: lost == 0, duplicates <= killed, achieved
>= 90 % of allowed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.multinode_rig import as_json, multinode
from tests.pg_cluster import start_cluster


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--platform", choices=("telegram", "discord"), default="telegram")
    args = parser.parse_args()
    cluster = start_cluster()
    try:
        url = cluster.create_database("unblend_multinode")
        with tempfile.TemporaryDirectory(prefix="unblend-multinode-") as folder:
            result = asyncio.run(
                multinode(Path(folder), url, args.groups, args.processes, args.platform)
            )
    finally:
        cluster.stop()
    print(
        f"{result.platform}: {result.processes} processes, {result.groups} groups, "
        f"1 killed mid fan-out: {result.lost} lost, {result.duplicates} duplicates, "
        f"takeover {result.takeover_s} s, "
        f"{result.achieved_per_s}/s of {result.allowed_per_s}/s allowed ({result.ratio:.0%})",
        file=sys.stderr,
    )
    print(as_json(result))
    ok = result.lost == 0 and result.duplicates <= result.killed and result.ratio >= 0.9
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
