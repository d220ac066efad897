"""`unblend safety check`: moderators test wording, one `<level>\\t<line>` per line."""

from __future__ import annotations

from tests.launch import unblend


def safety_check(*args: str, stdin: str = "") -> list[str]:
    result = unblend("safety", "check", *args, stdin=stdin, check=True)
    return result.stdout.splitlines()


def test_lines_from_stdin_keep_their_order_and_text() -> None:
    lines = [
        "i want to end my life",
        "this craving is killing me",
        "i feel so hopeless lately",
        "",
        "went to my meeting 🙂",
    ]
    out = safety_check(stdin="\n".join(lines) + "\n")
    assert out == [
        "crisis\ti want to end my life",
        "none\tthis craving is killing me",
        "concern\ti feel so hopeless lately",
        "none\t",
        "none\twent to my meeting 🙂",
    ]


def test_lines_as_arguments() -> None:
    assert safety_check("my friend took too many pills and won't wake up") == [
        "crisis\tmy friend took too many pills and won't wake up"
    ]
