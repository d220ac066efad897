"""Content is validated with file and key in every error; locales fall back to English."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.api import REQUIRED_MESSAGES
from core.kernel.catalog import ContentLibrary, check_content
from core.kernel.problems import ContentError
from tests.launch import unblend


def test_bundled_content_is_valid(content_dir: Path) -> None:
    assert check_content(content_dir).lines() == []


def test_content_check_command_reports_file_and_key(tmp_path: Path, content_dir: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(content_dir, broken)
    flow = broken / "en" / "flows" / "checkin.toml"
    flow.write_text(flow.read_text().replace('next = "need"', 'next = "needs"'))
    messages = broken / "en" / "messages.toml"
    messages.write_text(
        messages.read_text().replace("{limit}", "{limt}")
        + '\n[extra]\nlong = "'
        + "x" * 2100
        + '"\n'
    )
    result = unblend("content", "check", str(broken))
    assert result.returncode == 1
    assert f'{flow}: steps.part.next: names an unknown step "needs"' in result.stdout
    assert f"{messages}: input.too_long: uses {{limt}}" in result.stdout
    assert f"{messages}: extra.long: is 2100 characters" in result.stdout


def test_invalid_toml_is_reported_not_raised(tmp_path: Path, content_dir: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(content_dir, broken)
    (broken / "en" / "reflections.toml").write_text("[[rules]\n")
    lines = check_content(broken).lines()
    assert any("reflections.toml" in line and "not valid TOML" in line for line in lines)


def test_a_translation_is_a_folder_with_english_fallback(tmp_path: Path, content_dir: Path) -> None:
    base = tmp_path / "content"
    shutil.copytree(content_dir, base)
    (base / "de").mkdir()
    (base / "de" / "messages.toml").write_text('[nav]\nstop = "Anhalten"\n')
    library = ContentLibrary(base)
    german = library.catalog("de-AT")
    assert german.text("nav.stop") == "Anhalten"
    assert german.text("nav.skip") == "Skip"
    assert library.catalog("xx").text("nav.stop") == "Stop"
    assert check_content(base).lines() == []


def test_override_dir_changes_a_groups_wording(tmp_path: Path, content_dir: Path) -> None:
    override = tmp_path / "ours"
    (override / "en").mkdir(parents=True)
    (override / "en" / "messages.toml").write_text(
        '[checkin]\nclosing = "See you at Thursday\'s meeting."\n'
    )
    catalog = ContentLibrary(content_dir, override).catalog("en")
    assert catalog.text("checkin.closing") == "See you at Thursday's meeting."


def test_bad_override_fails_at_start(tmp_path: Path, content_dir: Path) -> None:
    override = tmp_path / "ours"
    (override / "en").mkdir(parents=True)
    (override / "en" / "messages.toml").write_text('[input]\ntoo_long = "max {oops}"\n')
    with pytest.raises(ContentError, match="oops"):
        ContentLibrary(content_dir, override).load_all()


def test_every_message_avoids_commanding_language(content_dir: Path) -> None:
    catalog = ContentLibrary(content_dir).catalog("en")
    texts = list(catalog.messages.values()) + [
        s.text for f in catalog.flows.values() for s in f.steps.values()
    ]
    for text in texts:
        assert "you must" not in text.lower()
        assert "you should" not in text.lower()
    assert set(REQUIRED_MESSAGES) <= set(catalog.messages)
