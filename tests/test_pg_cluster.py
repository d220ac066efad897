"""The throw-away PostgreSQL server the storage tests use starts, answers and is private."""

from __future__ import annotations

import subprocess

from tests.pg_cluster import PgCluster


def test_the_cluster_answers_on_loopback_only(pg_cluster: PgCluster) -> None:
    url = pg_cluster.create_database("probe_answers")
    assert url.startswith("postgresql://unblend@127.0.0.1:")
    result = subprocess.run(
        [str(pg_cluster.bindir / "psql"), url, "-tAc", "show listen_addresses"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "127.0.0.1"
