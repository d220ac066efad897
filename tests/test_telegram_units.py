"""The Telegram adapter's small pieces: splitting, keyboards, retries, config, log masking."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bots.logsafe import MASK, SecretFilter
from bots.telegram_limits import _retryable
from bots.telegram_render import deep_link, escape, keyboard, split_text, tg_len
from core.kernel.config import ConfigError, load_config
from core.kernel.model import Choice


def test_text_within_the_limit_is_one_piece() -> None:
    assert split_text("short") == ["short"]
    assert split_text("x" * 4096) == ["x" * 4096]


def test_long_text_splits_at_paragraphs_then_lines_then_spaces() -> None:
    paragraphs = ["a" * 3000, "b" * 3000, "c" * 10]
    assert split_text("\n\n".join(paragraphs)) == ["a" * 3000, "b" * 3000 + "\n\n" + "c" * 10]
    lines = "\n".join(["l" * 100] * 50)
    pieces = split_text(lines)
    assert all(len(p) <= 4096 and p.endswith("l") for p in pieces)
    assert "".join(pieces).count("l") == 5000
    unbroken = "y" * 9000
    assert [len(p) for p in split_text(unbroken)] == [4096, 4096, 808]


def test_emoji_count_twice_toward_the_limit() -> None:
    text = "🙂" * 3000  # 6,000 UTF-16 units
    pieces = split_text(text)
    assert all(tg_len(p) <= 4096 for p in pieces) and "".join(pieces) == text


def test_markup_is_escaped_to_show_literally() -> None:
    assert escape("<b>x</b> & <i>") == "&lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;"


def test_keyboard_rows_keep_short_buttons_together_and_nav_apart() -> None:
    scale = tuple(Choice(f"s:urge:{n}", str(n)) for n in range(11))
    nav = (Choice("nav:skip", "Skip"), Choice("nav:stop", "Stop"))
    markup = keyboard(scale + nav)
    assert markup is not None
    rows = [[b.text for b in row] for row in markup.inline_keyboard]
    assert rows == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"], ["Skip", "Stop"]]
    assert markup.inline_keyboard[0][0].callback_data == "s:urge:0"


def test_a_link_becomes_a_url_button_and_an_overlong_id_is_a_bug() -> None:
    markup = keyboard((), ("Open private chat", deep_link("UnblendBot", "checkin")))
    assert markup is not None
    assert markup.inline_keyboard[0][0].url == "https://t.me/UnblendBot?start=checkin"
    with pytest.raises(AssertionError):
        keyboard((Choice("x" * 65, "too long"),))
    assert keyboard(()) is None


def test_only_failures_where_nothing_was_sent_are_retried() -> None:
    assert _retryable(NetworkError("Bad Gateway"), "sendMessage")
    assert not _retryable(BadRequest("message is too long"), "sendMessage")
    # A read timeout may come after the message went out: not repeated, edits are.
    assert not _retryable(TimedOut(), "sendMessage")
    assert _retryable(TimedOut(), "editMessageText")
    try:
        raise TimedOut() from httpx.ConnectTimeout("no connection")
    except TimedOut as exc:
        assert _retryable(exc, "sendMessage")


def test_webhook_settings_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[telegram]\nwebhook_url = "http://bot.example.org/tg"\nwebhook_listen = "8443"\n'
        'webhook_secret = "has spaces"\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_config(config, env={})
    text = str(raised.value)
    assert "webhook_url" in text and "https://" in text
    assert "webhook_listen" in text and "host:port" in text
    assert "webhook_secret" in text
    config.write_text('[telegram]\nwebhook_url = "https://bot.example.org/tg"\n')
    loaded = load_config(config, env={"UNBLEND_TELEGRAM_WEBHOOK_SECRET": "s3cret_x"})
    assert loaded.get("telegram", "webhook_secret") == "s3cret_x"
    assert loaded.get("telegram", "webhook_listen") == "0.0.0.0:8443"


def test_secrets_are_masked_in_messages_and_tracebacks() -> None:
    token = "123:ABC-secret"
    record = logging.LogRecord("x", logging.INFO, "f", 1, "POST /bot%s/getMe", (token,), None)
    try:
        raise RuntimeError(f"url /bot{token}/x")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    SecretFilter([token, ""]).filter(record)
    assert record.getMessage() == f"POST /bot{MASK}/getMe"
    assert record.exc_text is not None and token not in record.exc_text and MASK in record.exc_text
