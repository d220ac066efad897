"""Core throughput: simulated members doing full check-ins through handle() on a file database.

Prints steps/s, p50/p99 step latency, and a bare aiosqlite INSERT+COMMIT loop's rate measured
in the same run on the same disk. The last line is one JSON object with those figures.
Target on a 2-core machine: >= 2,000 steps/s and >= 0.5x the bare commit rate.

`--storage postgresql://user@host/dbname` runs the same on PostgreSQL (an empty database: the
bench makes its own key), beside a bare asyncpg INSERT (autocommit) loop on the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiosqlite

from bots.bootstrap import bundled_content_dir
from core.app import Unblend
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import SystemClock
from core.kernel.model import Event, Space
from core.repos import sqlite_repos
from core.safety import load_detector
from core.storage.keyring import open_encrypted

CHECKIN = [
    ("command", "/checkin"),
    ("choice", "s:mood:3"),
    ("choice", "s:urge:4"),
    ("choice", "s:part:unsure"),
    ("choice", "s:need:tired"),
    ("text", "a short note about today"),
]


async def bare_commit_rate(folder: Path, n: int) -> float:
    async with aiosqlite.connect(folder / "bare.sqlite") as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
        start = time.perf_counter()
        for i in range(n):
            await conn.execute("INSERT INTO t (v) VALUES (?)", (b"x" * 64 + i.to_bytes(4, "big"),))
            await conn.commit()
        return n / (time.perf_counter() - start)


async def bare_postgresql_rate(url: str, n: int) -> float:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TEMPORARY TABLE bare_t (id BIGSERIAL PRIMARY KEY, v BYTEA)")
        start = time.perf_counter()
        for i in range(n):
            await conn.execute(
                "INSERT INTO bare_t (v) VALUES ($1)", b"x" * 64 + i.to_bytes(4, "big")
            )
        return n / (time.perf_counter() - start)
    finally:
        await conn.close()


async def member(app: Unblend, user: str, rounds: int, latencies: list[float]) -> None:
    base = {"platform": "bench", "user_id": user, "space": Space.private(user)}
    for kind, value in [("command", "/start"), ("choice", "s:intro:ok"), ("choice", "s:keep:yes")]:
        await app.handle(Event(**base, **{kind: value}))  # type: ignore[arg-type]
    for _ in range(rounds):
        for kind, value in CHECKIN:
            started = time.perf_counter()
            await app.handle(Event(**base, **{kind: value}))  # type: ignore[arg-type]
            latencies.append(time.perf_counter() - started)


async def main(
    members: int, rounds: int, bare_n: int, storage: str = ""
) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if storage:
            from core.storage.postgresql import PostgresDatabase

            bare = await bare_postgresql_rate(storage, bare_n)
            db, cipher = await open_encrypted(
                folder / "unblend.sqlite", {}, PostgresDatabase(storage)
            )
        else:
            bare = await bare_commit_rate(folder, bare_n)
            db, cipher = await open_encrypted(folder / "unblend.sqlite", {})
        content = bundled_content_dir()
        app = Unblend(
            sqlite_repos(db, cipher), ContentLibrary(content), load_detector(content), SystemClock()
        )
        latencies: list[float] = []
        start = time.perf_counter()
        await asyncio.gather(*(member(app, f"m{i}", rounds, latencies) for i in range(members)))
        elapsed = time.perf_counter() - start
        await db.close()
    steps = len(latencies) + members * 3
    ordered = sorted(latencies)
    result: dict[str, float | int | str] = {
        "storage": "postgresql" if storage else "sqlite",
        "members": members,
        "steps": steps,
        "steps_per_s": round(steps / elapsed),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "bare_commits_per_s": round(bare),
        "ratio_to_bare": round(steps / elapsed / bare, 2),
    }
    print(f"{steps} steps by {members} members in {elapsed:.2f} s: {result['steps_per_s']} steps/s")
    print(f"step latency p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
    bare_rate, ratio = result["bare_commits_per_s"], result["ratio_to_bare"]
    bare_kind = "asyncpg INSERT (autocommit)" if storage else "aiosqlite INSERT+COMMIT"
    print(f"bare {bare_kind}: {bare_rate}/s (ratio {ratio})")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--bare", type=int, default=5000)
    parser.add_argument(
        "--storage", default="", help="postgresql://... (an empty database); default: SQLite"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.members, args.rounds, args.bare, args.storage))))
