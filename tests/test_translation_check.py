"""`unblend content check` holds every shipped translation against English (issue 16): a
locale that lacks a key, a flow, a flow step or a placeholder English has fails the check,
though at run time the gap would only fall back to English."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from core.kernel.catalog import check_content
from core.kernel.coverage import locale_coverage
from tests.launch import unblend


def content_check(folder: Path) -> subprocess.CompletedProcess[str]:
    return unblend("content", "check", str(folder))


def test_the_bundled_translations_are_complete(content_dir: Path) -> None:
    result = content_check(content_dir)
    assert result.returncode == 0, result.stdout
    assert "es: 6" in result.stdout and "every placeholder: complete" in result.stdout
    [spanish], problems = locale_coverage(content_dir)
    assert spanish.complete and problems.lines() == []
    assert spanish.messages == spanish.messages_total > 600


def test_a_missing_key_step_flow_or_placeholder_fails_the_check(
    tmp_path: Path, content_dir: Path
) -> None:
    base = tmp_path / "content"
    shutil.copytree(content_dir, base)
    es = base / "es"
    messages = es / "messages.toml"
    text = messages.read_text()
    text = text.replace('ask_safe = "¿Estás a salvo ahora mismo?"\n', "")
    text = text.replace("hasta {limit} caracteres", "hasta unos caracteres")
    messages.write_text(text)
    (es / "flows" / "ground_box.toml").unlink()
    # A step English gained that Spanish does not have yet.
    english_flow = base / "en" / "flows" / "checkin.toml"
    english_flow.write_text(
        english_flow.read_text() + '\n[steps.later]\nkind = "info"\ntext = "Later."\n'
    )
    assert check_content(base).lines() == [], "each folder is valid on its own"
    result = content_check(base)
    assert result.returncode == 1
    out = result.stdout
    assert f"{messages}: crisis.ask_safe: is missing; English has it" in out
    assert f"{messages}: input.too_long: lacks {{limit}}, which English uses" in out
    assert f"{es / 'flows' / 'ground_box.toml'}: ground_box: this flow is missing" in out
    assert f"{es / 'flows' / 'checkin.toml'}: steps.later: this step is missing" in out
    [bundled], _ = locale_coverage(content_dir)
    keys, flows = bundled.messages_total, bundled.flows_total
    assert f"es: {keys - 1}/{keys} messages, {flows - 1}/{flows} flows" in out
    assert ": incomplete" in out


def test_a_new_language_folder_is_held_to_all_of_english(tmp_path: Path, content_dir: Path) -> None:
    base = tmp_path / "content"
    shutil.copytree(content_dir, base)
    (base / "de").mkdir()
    (base / "de" / "messages.toml").write_text('[nav]\nstop = "Anhalten"\n')
    result = content_check(base)
    assert result.returncode == 1
    [bundled], _ = locale_coverage(content_dir)
    flows = bundled.flows_total
    assert f"de: 1/{bundled.messages_total} messages, 0/{flows} flows" in result.stdout
    assert f"{base / 'de' / 'messages.toml'}: help.text: is missing" in result.stdout
    assert "es: " in result.stdout and "complete" in result.stdout
