"""The import contracts (pyproject.toml, `make lint`) hold, and would catch an import pointing the
wrong way: a copy of the project with one upward import added fails them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is in the dev extra")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-logo", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        timeout=120,
    )


def copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    for name in ("core", "bots"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def add_import(module: Path, line: str) -> None:
    text = module.read_text(encoding="utf-8")
    head = "from __future__ import annotations\n"
    module.write_text(text.replace(head, f"{head}\n{line}\n", 1), encoding="utf-8")


def test_the_contracts_hold_on_the_project() -> None:
    result = lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_the_kernel_importing_a_capability_breaks_them(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    # Even a type-only import counts: the flow engine may not know about check-ins.
    add_import(
        root / "core/kernel/turn.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import core.checkin.records",
    )
    result = lint(root)
    assert result.returncode != 0
    assert "Imports point down" in result.stdout and "BROKEN" in result.stdout
    assert "core.kernel.turn -> core.checkin.records" in result.stdout


def test_a_cycle_between_two_capabilities_breaks_them(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    # Parts sits below check-ins; parts importing check-ins would close a cycle.
    add_import(root / "core/parts/records.py", "import core.checkin.records")
    result = lint(root)
    assert result.returncode != 0
    assert "core.parts.records -> core.checkin.records" in result.stdout


def test_core_importing_a_platform_library_breaks_them(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    add_import(root / "core/history/summary.py", "import discord")
    result = lint(root)
    assert result.returncode != 0
    assert "core imports no platform library BROKEN" in result.stdout


# -- a new package of core is covered without being named ---------------------------------------


def add_package(root: Path, name: str, body: str) -> None:
    (root / "core" / name).mkdir()
    (root / "core" / name / "__init__.py").write_text(body, encoding="utf-8")


def test_a_new_package_of_core_talking_to_the_driver_breaks_them(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    add_package(root, "journal", "import sqlite3\n")
    result = lint(root)
    assert "Only the storage kernel talks to a database driver BROKEN" in result.stdout
    assert "core.journal -> sqlite3" in result.stdout


def test_bots_importing_a_new_package_of_core_directly_breaks_them(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    add_package(root, "journal", "")
    add_import(root / "bots" / "console.py", "import core.journal")
    result = lint(root)
    assert "reaches what a feature owns only through core.api BROKEN" in result.stdout
    assert "bots.console -> core.journal" in result.stdout
    # Nor may the new package go without a layer: the layers contract is exhaustive.
    assert "Imports point down" in result.stdout and "core.journal" in result.stdout
