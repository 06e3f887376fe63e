"""The 14-day chart: a PNG of the right size from any days, in a worker thread, whatever the matplotlib backend."""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from report_kit import day_points, translator

from chatops_plugins.digest.chart import chart_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("language", ["en", "fi", "pl"])
def test_fourteen_days_make_an_800_by_400_png(language: str) -> None:
    data = chart_png(day_points(), translator(language))
    assert png_size(data) == (800, 400)
    assert data.endswith(b"IEND\xaeB`\x82")


def test_no_days_and_days_without_conversations_still_make_a_chart() -> None:
    t = translator()
    empty = chart_png([], t)
    zeros = chart_png(day_points(values=[(0, None)] * 14), t)
    assert png_size(empty) == png_size(zeros) == (800, 400)
    # Not the same picture as a fortnight with data: the chart says there is none.
    assert zeros != chart_png(day_points(), t)


def test_absurd_values_still_make_a_chart() -> None:
    values: list[tuple[int, float | None]] = [(10**9, 1e12), (-3, float("nan")), (0, float("inf"))] + [(1, 60.0)] * 11
    assert png_size(chart_png(day_points(values=values), translator())) == (800, 400)


async def test_charts_are_drawn_in_worker_threads_at_once() -> None:
    t = translator("pl")
    points = day_points()
    alone = chart_png(points, t)
    together = await asyncio.gather(*(asyncio.to_thread(chart_png, points, t) for _ in range(4)))
    # Threads share no figure: each chart is the same picture as one drawn alone.
    assert all(data == alone for data in together)


def test_the_chart_ignores_the_configured_matplotlib_backend() -> None:
    """pyplot is never imported, so a backend that cannot load (no display, not installed) does not matter."""
    script = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from report_kit import day_points, translator\n"
        "from chatops_plugins.digest.chart import chart_png\n"
        "data = chart_png(day_points(), translator())\n"
        "assert data.startswith(b'\\x89PNG'), data[:8]\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "print('ok')\n"
    )
    env = os.environ | {"MPLBACKEND": "module://no_such_backend"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
