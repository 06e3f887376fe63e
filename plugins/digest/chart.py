"""The digest's chart: conversations in and median first response per day over the last 14 days (PNG).

matplotlib with the Agg backend and its object API (no pyplot state), so it runs headless and
in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatops.i18n import Translator

from .figures import DayPoint


def chart_png(points: Sequence[DayPoint], t: Translator) -> bytes:
    """The chart of ``points`` as PNG bytes."""
    raise NotImplementedError("chart: being written")
