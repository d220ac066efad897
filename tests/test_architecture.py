"""Dependencies point inward: core/ never imports a platform library."""

from __future__ import annotations

import ast
from pathlib import Path

import core

PLATFORM_LIBS = {"discord", "telegram", "aiohttp", "bots", "httpx"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_no_platform_library() -> None:
    core_dir = Path(core.__file__).parent
    files = sorted(core_dir.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(f.relative_to(core_dir)): imported_roots(f) & PLATFORM_LIBS for f in files}
    assert {f: libs for f, libs in offenders.items() if libs} == {}


def test_the_check_itself_would_catch_an_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import discord\nfrom telegram.ext import Application\n")
    assert imported_roots(bad) >= {"discord", "telegram"}
