"""Runs drawn as server-side HTML and SVG: a strip of marks, a sparkline, a chart.

No scripts and no front-end framework: the markup is built with
``format_html``, so every text in it (codes, statuses, times) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from ..models import RunStatus
from ..monitoring.run_history import RunSummary
from ..text.moments import duration_text
from .log import STATUS_COLOURS

# The widest a bar gets, so a few runs are bars, not blocks.
MAX_BAR_WIDTH = 20.0


def describe_run(run: RunSummary, labels: dict[str, str] | None = None) -> str:
    """``succeeded at 2025-01-06 00:00:05, 1.500 s``: a run's tooltip.

    A missed slot never ran: ``missed slot 2025-01-06 00:05``.

    ``labels`` (from :func:`status_labels`) saves translating each status again.
    """
    labels = labels or status_labels()
    if run.status == RunStatus.MISSED:
        return f"{labels.get(run.status, run.status)} slot {_moment(run.slot or run.start_time)}"
    when = f"{localtime(run.start_time):%Y-%m-%d %H:%M:%S}"
    took = duration_text(run.seconds)
    return f"{labels.get(run.status, run.status)} at {when}" + (f", {took}" if took else "")


def status_labels() -> dict[str, str]:
    """Each status's label in the active language."""
    return {status.value: str(status.label) for status in RunStatus}


def run_strip(runs: Sequence[RunSummary], places: int) -> SafeString:
    """The runs (newest first) as coloured marks, oldest on the left.

    Places without a run yet stay empty, so strips of several jobs line up.
    """
    labels = status_labels()
    marks = format_html_join(
        "",
        '<span class="cronjobs-mark cronjobs-status-{}" style="background: {}" title="{}"></span>',
        (
            (run.status, STATUS_COLOURS.get(run.status, "#757575"), describe_run(run, labels))
            for run in reversed(runs[:places])
        ),
    )
    empty = mark_safe('<span class="cronjobs-mark cronjobs-mark-empty"></span>')
    padding = SafeString(empty * max(0, places - len(runs)))
    return format_html(
        '<span class="cronjobs-strip" role="img" aria-label="{}">{}{}</span>',
        f"last {min(len(runs), places)} runs",
        padding,
        marks,
    )


def sparkline(runs: Sequence[RunSummary], width: int = 120, height: int = 24) -> SafeString:
    """The durations of the runs that ended (newest first) as a small SVG line."""
    durations = [run.seconds for run in drawn_runs(runs) if run.seconds is not None]
    if len(durations) < 2:
        return SafeString("")
    top = max(durations) or 1.0
    step = (width - 2) / (len(durations) - 1)
    points = " ".join(
        f"{1 + index * step:.1f},{height - 1 - (seconds / top) * (height - 2):.1f}"
        for index, seconds in enumerate(durations)
    )
    return format_html(
        '<svg class="cronjobs-sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img">'
        "<title>{}</title>"
        '<polyline fill="none" stroke="#417690" stroke-width="1.5" points="{}"/></svg>',
        width,
        height,
        width,
        height,
        f"durations of the last {len(durations)} runs, up to {duration_text(top)}",
        points,
    )


def drawn_runs(runs: Sequence[RunSummary]) -> list[RunSummary]:
    """The runs a duration chart draws, oldest first: every run that started.

    A missed slot never started and has no duration, so it is not a bar (the
    strip of marks shows it).
    """
    return [run for run in reversed(runs) if run.status != RunStatus.MISSED]


@dataclass(frozen=True)
class ChartFrame:
    """Where a duration chart draws: its plot area and the place of each of ``count`` bars."""

    width: int
    height: int
    count: int
    left: int = 64
    bottom: int = 22
    top: int = 8

    @property
    def plot_width(self) -> float:
        return self.width - self.left - 4

    @property
    def base(self) -> int:
        """The y of the time axis."""
        return self.height - self.bottom

    @property
    def slot(self) -> float:
        """Each bar's share of the axis: the bars spread over all of it."""
        return self.plot_width / self.count

    @property
    def bar_width(self) -> float:
        return max(1.0, min(self.slot * 0.8, MAX_BAR_WIDTH))

    def bar_left(self, index: int) -> float:
        return self.left + index * self.slot + (self.slot - self.bar_width) / 2


def duration_chart(runs: Sequence[RunSummary], width: int = 760, height: int = 220) -> SafeString:
    """A bar per run that started (newest first in ``runs``, drawn oldest on the left).

    Bar height is the run's duration, colour its status; each bar's tooltip
    tells its status, start and duration. The bars share the plot's width
    evenly, so the time axis spans exactly the runs drawn: its first label
    starts under the first bar and its last label ends under the last bar.
    """
    shown = drawn_runs(runs)
    if not shown:
        return SafeString("")
    frame = ChartFrame(width, height, len(shown))
    longest = max((run.seconds or 0.0) for run in shown) or 1.0
    return format_html(
        '<svg class="cronjobs-chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{label}">'
        '<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" stroke="#999"/>'
        '<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#999"/>'
        '<text x="{tick}" y="{top_text}" text-anchor="end" font-size="11">{longest}</text>'
        '<text x="{tick}" y="{base}" text-anchor="end" font-size="11">0 s</text>'
        "{times}{bars}</svg>",
        w=width,
        h=height,
        label=f"durations of the last {len(shown)} runs",
        left=frame.left,
        right=f"{frame.left + frame.plot_width:.1f}",
        top=frame.top,
        base=frame.base,
        tick=frame.left - 4,
        top_text=frame.top + 10,
        longest=duration_text(longest),
        times=_time_labels(shown, frame),
        bars=_bars(shown, frame, longest),
    )


def _bars(shown: Sequence[RunSummary], frame: ChartFrame, longest: float) -> SafeString:
    """A rectangle per run, as tall as its share of the longest duration."""
    labels = status_labels()
    plot_height = frame.base - frame.top
    bars = []
    for index, run in enumerate(shown):
        bar_height = max(1.0, (run.seconds or 0.0) / longest * plot_height)
        bars.append(
            (
                f"{frame.bar_left(index):.1f}",
                f"{frame.base - bar_height:.1f}",
                f"{frame.bar_width:.1f}",
                f"{bar_height:.1f}",
                STATUS_COLOURS.get(run.status, "#757575"),
                run.status,
                describe_run(run, labels),
            )
        )
    return format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" '
        'class="cronjobs-bar cronjobs-status-{}"><title>{}</title></rect>',
        bars,
    )


def _time_labels(shown: Sequence[RunSummary], frame: ChartFrame) -> SafeString:
    """The first and last start times under the first and last bars (one under one bar)."""
    if len(shown) == 1:
        return format_html(
            '<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>',
            f"{frame.bar_left(0) + frame.bar_width / 2:.1f}",
            frame.height,
            _moment(shown[0].start_time),
        )
    return format_html(
        '<text x="{}" y="{h}" font-size="11">{}</text>'
        '<text x="{}" y="{h}" text-anchor="end" font-size="11">{}</text>',
        f"{frame.bar_left(0):.1f}",
        _moment(shown[0].start_time),
        f"{frame.bar_left(len(shown) - 1) + frame.bar_width:.1f}",
        _moment(shown[-1].start_time),
        h=frame.height,
    )


def _moment(value: datetime) -> str:
    return f"{localtime(value):%Y-%m-%d %H:%M}"
