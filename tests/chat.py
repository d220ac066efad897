"""A test member talking to the core: send commands, tap buttons by label, read replies."""

from __future__ import annotations

from core.app import Unblend
from core.kernel.model import Choice, Event, Reply, Space


class Chat:
    def __init__(self, app: Unblend, user_id: str = "u1", platform: str = "test") -> None:
        self.app = app
        self.user_id = user_id
        self.platform = platform
        self.last: list[Reply] = []

    def _event(self, **kwargs: object) -> Event:
        return Event(
            platform=self.platform,
            user_id=self.user_id,
            space=Space.private(self.user_id),
            **kwargs,  # type: ignore[arg-type]
        )

    async def send(self, text: str) -> list[Reply]:
        if text.startswith("/"):
            name, *args = text.split()
            event = self._event(command=name, args=tuple(args))
        else:
            event = self._event(text=text)
        self.last = await self.app.handle(event)
        return self.last

    async def choose(self, choice_id: str) -> list[Reply]:
        self.last = await self.app.handle(self._event(choice=choice_id))
        return self.last

    def choices(self) -> list[Choice]:
        return [c for r in self.last for c in r.choices]

    def labels(self) -> list[str]:
        return [c.label for c in self.choices()]

    async def tap(self, label: str) -> list[Reply]:
        for choice in self.choices():
            if choice.label == label:
                return await self.choose(choice.id)
        raise AssertionError(f"no button {label!r}; buttons are {self.labels()}")

    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    async def welcome(self, keep: bool = True) -> None:
        await self.send("/start")
        await self.tap("Okay")
        await self.tap("Yes, keep them" if keep else "No, don't keep them")

    async def checkin(
        self,
        mood: int = 3,
        urge: int = 4,
        part: str = "Not sure",
        need: str = "Tired",
        note: str | None = None,
    ) -> list[Reply]:
        await self.send("/checkin")
        await self.tap(str(mood))
        await self.tap(str(urge))
        if urge >= 8:
            await self.tap("Keep going")
        await self.tap(part)
        await self.tap(need)
        if note is None:
            return await self.tap("Skip")
        return await self.send(note)
