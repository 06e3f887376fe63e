"""The digest's chart: conversations in and median first response per day over the last 14 days (PNG).

matplotlib with the Agg canvas and its object API (no pyplot state), so it runs headless and
in a worker thread (``await asyncio.to_thread(chart_png, points, t)``), whatever ``MPLBACKEND``
says: pyplot is never imported, so no backend is ever chosen or loaded. Each call makes its own
:class:`~matplotlib.figure.Figure`; nothing is shared between calls.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from chatops.i18n import Translator

from .figures import DayPoint
from .render import days_label

#: 8 × 4 inches at 100 dpi: 800 × 400 pixels, readable in a phone's Slack preview.
SIZE = (8.0, 4.0)
DPI = 100
BAR_COLOUR = "#4a90d9"
LINE_COLOUR = "#d9822b"


def chart_png(points: Sequence[DayPoint], t: Translator) -> bytes:
    """The chart of ``points`` as PNG bytes.

    Bars: conversations in per day (left axis). Line: the day's median first response in
    minutes (right axis); a day without one leaves a gap rather than a fall to zero. No
    points, or no conversations on any day, still give a chart that says there is no data.
    """
    # Fixed margins rather than a layout engine: constrained layout made a chart half as fast again.
    figure = Figure(figsize=SIZE, dpi=DPI)
    figure.subplots_adjust(left=0.08, right=0.91, top=0.91, bottom=0.2)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    weekdays = t("digest.weekdays").split(",")
    days = [point.day for point in points]
    counts = [max(point.conversations, 0) for point in points]
    minutes = [
        point.median_first_response / 60
        if point.median_first_response is not None and math.isfinite(point.median_first_response)
        else math.nan
        for point in points
    ]
    when = days_label(t, days[0], days[-1]) if days else ""
    # A fixed title position spares matplotlib measuring every tick label to place it (a quarter of the time).
    axes.set_title(t("digest.chart.title", when=when) if when else t("digest.chart.title_empty"), fontsize=11, y=1.02)

    positions = list(range(len(points)))
    axes.bar(positions, counts, color=BAR_COLOUR, label=t("digest.chart.conversations"))
    axes.set_ylabel(t("digest.chart.conversations"), fontsize=9)
    axes.set_xticks(positions, [t("digest.chart.day", weekday=weekdays[d.weekday()], day=d.day) for d in days])
    axes.tick_params(labelsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0, top=max([*counts, 1]) * 1.15)
    axes.spines[["top"]].set_visible(False)

    line_axes = axes.twinx()
    line_axes.plot(positions, minutes, color=LINE_COLOUR, marker="o", markersize=4, label=t("digest.chart.median"))
    line_axes.set_ylabel(t("digest.chart.median"), fontsize=9)
    line_axes.tick_params(labelsize=8)
    known = [m for m in minutes if not math.isnan(m)]
    line_axes.set_ylim(bottom=0, top=max([*known, 1.0]) * 1.15)
    line_axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    line_axes.spines[["top"]].set_visible(False)

    if not any(counts):
        axes.text(
            0.5,
            0.5,
            t("digest.chart.no_data"),
            transform=axes.transAxes,
            ha="center",
            va="center",
            fontsize=12,
            color="#666666",
        )
    if not points:
        axes.set_xlim(-0.5, 0.5)
    else:
        _legend(axes, line_axes)

    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _legend(axes: Axes, line_axes: Axes) -> None:
    """One legend for both axes, below the day labels, so it never hides a bar."""
    handles = axes.get_legend_handles_labels()
    line_handles = line_axes.get_legend_handles_labels()
    axes.legend(
        handles[0] + line_handles[0],
        handles[1] + line_handles[1],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
