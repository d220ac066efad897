"""The one place that wires storage, content, safety and the core together."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path

from core.api import Unblend, content_contract, sqlite_repos
from core.kernel.catalog import ContentLibrary
from core.kernel.clock import Clock, SystemClock
from core.kernel.config import Config
from core.kernel.settings import Settings
from core.safety import load_detector
from core.storage.database import Database
from core.storage.engines import open_database
from core.storage.keyring import open_encrypted


def bundled_content_dir() -> Path:
    return Path(str(resources.files("content")))


@dataclass
class Runtime:
    app: Unblend
    db: Database
    config: Config

    async def close(self) -> None:
        await self.db.close()


async def build_runtime(
    config: Config, env: Mapping[str, str] | None = None, clock: Clock | None = None
) -> Runtime:
    env = os.environ if env is None else env
    content = bundled_content_dir()
    library = ContentLibrary(content, config.override_dir, content_contract())
    library.load_all()
    # The driver the URL names (SQLite's file by default); the key file stays beside db_path.
    storage = config.storage
    database = None if storage.dialect == "sqlite" else open_database(storage)
    db, cipher = await open_encrypted(config.db_path, env, database)
    try:
        # After the database, whose folder then exists: the lexicon analysis is cached there.
        in_memory = str(config.db_path) == ":memory:"
        detector = load_detector(content, cache_dir=None if in_memory else config.db_path.parent)
    except BaseException:
        await db.close()
        raise
    settings = Settings(
        default_country=str(config.get("safety", "default_country")).upper(),
        idle_timeout=timedelta(minutes=int(config.get("flows", "idle_timeout_minutes"))),
        cold_water=bool(config.get("practices", "cold_water")),
        privacy_contact=str(config.get("privacy", "contact")),
        retention_days=int(config.get("privacy", "retention_days")),
        retention_days_max=int(config.get("privacy", "retention_days_max")),
        reach_out_timeout=timedelta(
            minutes=int(config.get("schedule", "reach_out_timeout_minutes"))
        ),
    )
    app = Unblend(sqlite_repos(db, cipher), library, detector, clock or SystemClock(), settings)
    return Runtime(app, db, config)
