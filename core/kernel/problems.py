"""Collects every problem in a file set, so an admin fixes them all in one pass."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    where: str
    key: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.where}: {self.key}: {self.message}"
            if self.key
            else f"{self.where}: {self.message}"
        )


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, where: str, key: str, message: str) -> None:
        self.items.append(Problem(where, key, message))

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def lines(self) -> list[str]:
        return [str(p) for p in self.items]


class ContentError(Exception):
    """Raised at start-up when content does not validate; carries every problem found."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        super().__init__("\n".join(problems.lines()))
