"""The import contracts (pyproject.toml, `make lint`) hold, and would catch an import pointing the
wrong way: a copy of the project with one upward import added fails them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

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


# -- every package of core has its place in every contract ------------------------------------

# The layers contract is exhaustive by itself. The two contracts below name packages one by one
# (import-linter's wildcards cannot leave the storage kernel out), so a new package of core must
# be added to them by hand: this says so when it was not.
# Packages the one-driver contract leaves out: the storage kernel is the driver's home, the API
# opens the database for the bots, and the crisis detector keeps its own cache file.
DRIVER_EXEMPT = frozenset({"api", "storage", "safety"})
# What bots/ may import directly: the API, and for the operator's tools the kernel, storage and
# the crisis detector.
API_EXEMPT = frozenset({"api", "kernel", "storage", "safety"})


def core_parts(root: Path = REPO / "core") -> set[str]:
    """core's packages and top-level modules, by name."""
    packages = {p.parent.name for p in root.glob("*/__init__.py")}
    modules = {p.stem for p in root.glob("*.py") if p.stem != "__init__"}
    return packages | modules


def contract(contract_id: str) -> dict[str, Any]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    [found] = [c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == contract_id]
    return dict(found)


def uncovered(parts: set[str]) -> dict[str, set[str]]:
    """The parts of core a contract that names packages one by one leaves out by mistake."""

    def named(modules: list[str]) -> set[str]:
        return {m.removeprefix("core.") for m in modules if m.startswith("core.")}

    driver = named(contract("one-driver")["source_modules"]) | DRIVER_EXEMPT
    api = named(contract("one-api")["forbidden_modules"]) | API_EXEMPT
    return {"one-driver": parts - driver, "one-api": parts - api}


def test_every_part_of_core_is_named_in_the_contracts() -> None:
    parts = core_parts()
    assert {"app", "features", "repos", "checkin", "groups", "kernel"} <= parts
    assert uncovered(parts) == {"one-driver": set(), "one-api": set()}


def test_a_new_package_left_out_of_the_contracts_is_caught(tmp_path: Path) -> None:
    root = tmp_path / "core"
    for name in sorted(core_parts()):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
    (root / "journal").mkdir()
    (root / "journal" / "__init__.py").write_text("")
    assert uncovered(core_parts(root)) == {"one-driver": {"journal"}, "one-api": {"journal"}}
