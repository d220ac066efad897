"""The /history picture: mood and urge over 30 days, slips and grounding sessions marked.

matplotlib is imported only here, and only when a member asks for a chart: it costs about
50 MB and a second to import, which a small VPS should not pay at start-up.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class ChartLabels:
    title: str
    mood: str
    urge: str
    slip: str
    grounding: str


@dataclass(frozen=True)
class ChartData:
    end: date
    days: int = 30
    # (when, mood 1-5 or None, urge 0-10 or None)
    checkins: list[tuple[datetime, int | None, int | None]] = field(default_factory=list)
    slips: list[date] = field(default_factory=list)
    practices: list[datetime] = field(default_factory=list)

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)


def render_png(data: ChartData, labels: ChartLabels) -> bytes:
    """A small PNG (800x400). Pure: only the data passed in is drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    start = datetime.combine(data.start, datetime.min.time())

    def x(when: datetime) -> float:
        """Days since the chart's first midnight: plain numbers keep the plot typed and small."""
        return (when.replace(tzinfo=None) - start).total_seconds() / 86400

    figure = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(figure)
    urge_axis = figure.add_subplot()
    mood_axis = urge_axis.twinx()
    points = sorted((x(w), m, u) for w, m, u in data.checkins)
    urges = [(t, u) for t, _, u in points if u is not None]
    moods = [(t, m) for t, m, _ in points if m is not None]
    if urges:
        urge_axis.plot(*zip(*urges, strict=True), "o-", color="#c0504d", label=labels.urge)
    if moods:
        mood_axis.plot(*zip(*moods, strict=True), "s--", color="#4f81bd", label=labels.mood)
    for i, slip in enumerate(data.slips):
        noon = datetime.combine(slip, datetime.min.time()) + timedelta(hours=12)
        urge_axis.axvline(
            x(noon), color="#7f7f7f", linestyle=":", label=labels.slip if i == 0 else None
        )
    if data.practices:
        xs = [x(p) for p in data.practices]
        urge_axis.plot(xs, [0.3] * len(xs), "^", color="#9bbb59", label=labels.grounding)
    urge_axis.set_xlim(0, data.days)
    ticks = list(range(0, data.days, 5))
    urge_axis.set_xticks(ticks, [(data.start + timedelta(days=t)).strftime("%d %b") for t in ticks])
    urge_axis.set_ylim(0, 10.5)
    mood_axis.set_ylim(0.5, 5.5)
    urge_axis.set_ylabel(labels.urge)
    mood_axis.set_ylabel(labels.mood)
    urge_axis.set_title(labels.title)
    handles, names = urge_axis.get_legend_handles_labels()
    mood_handles, mood_names = mood_axis.get_legend_handles_labels()
    if handles or mood_handles:
        urge_axis.legend(handles + mood_handles, names + mood_names, loc="upper left", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
