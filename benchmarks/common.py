"""What every benchmark case shares: interleaved rounds, medians, the load average, table rows and the table.

A case module (``benchmarks/<case>.py``) has ``async def run(options) -> list[dict]``; each dict is
one row of the table ``benchmarks/run.py`` prints, made with :func:`ratio_row` (ours against
baselines measured in the same run) or :func:`absolute_row` (a figure against a fixed target):

    rounds = await interleaved({"bare endpoint": bare, "ours": ours}, rounds=5)
    row = ratio_row("ingest, SQLite, 16 connections", "webhooks/s", rounds.pop("ours"), rounds,
                    target="≥0.25× bare endpoint", met=lambda r: r["bare endpoint"] >= 0.25)

Case modules import this as ``from common import ...`` (``run.py`` puts ``benchmarks/`` first on
``sys.path``, as running any script in it does).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: Where a full run keeps its figures (``--quick`` and ``--only`` runs write elsewhere, if asked).
RESULTS = HERE / "results.json"


async def interleaved(variants: Mapping[str, Callable[[], Awaitable[float]]], rounds: int) -> dict[str, list[float]]:
    """Run every variant once per round, the order alternating, and return each one's figures.

    Round 0 runs the variants in the order given, round 1 in reverse, and so on: on a machine
    shared with other work, a slow minute then costs every variant alike instead of whichever
    ran during it, and none always runs first (cold caches) or last (a warm, fragmented heap).
    """
    names = list(variants)
    figures: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        for name in names if i % 2 == 0 else reversed(names):
            figures[name].append(float(await variants[name]()))
    return figures


def median(values: Sequence[float]) -> float:
    """The median of the rounds' figures (the figure reported)."""
    if not values:
        raise ValueError("no figures")
    return float(statistics.median(values))


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank), as the earlier benchmarks reported it."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))
    return float(ordered[index])


def load_average() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages: how busy it was around the figures."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def ratio_row(
    case: str,
    unit: str,
    ours: Sequence[float],
    baselines: Mapping[str, Sequence[float]],
    *,
    target: str,
    met: bool | Callable[[dict[str, float]], bool],
    raw: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A row comparing ours with baselines run in the same run: medians and ``ours / baseline`` ratios.

    ``ours`` and each baseline are every round's figure. ``met`` is the verdict, or a function
    of the ratios (by baseline name) giving it. For latencies (lower is better) the ratio is the
    same ``ours / baseline``; say ``≤`` in ``target``.
    """
    ours_median = median(ours)
    medians = {name: median(values) for name, values in baselines.items()}
    ratios = {name: (ours_median / value if value else float("inf")) for name, value in medians.items()}
    verdict = met(ratios) if callable(met) else met
    return {
        "case": case,
        "unit": unit,
        "ours": ours_median,
        "baselines": medians,
        "ratios": ratios,
        "target": target,
        "met": bool(verdict),
        "rounds": len(ours),
        "raw": {"ours": list(ours), **{name: list(v) for name, v in baselines.items()}, **(raw or {})},
    }


def absolute_row(
    case: str,
    unit: str,
    value: float | None,
    *,
    target: str,
    met: bool,
    rounds: int = 1,
    raw: Mapping[str, Any] | None = None,
    baselines: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """A row whose figure stands against a fixed target (the burst's seconds, counts), not a baseline.

    ``baselines`` may still show a figure beside it (e.g. the same burst without roll-ups);
    the ratio is then shown too, but ``met`` is the caller's verdict on ``value``. ``value``
    None means the run ended before the figure could be measured (shown as "not reached").
    """
    shown = dict(baselines or {})
    return {
        "case": case,
        "unit": unit,
        "ours": value,
        "baselines": shown,
        "ratios": {name: (value / b if b and value is not None else None) for name, b in shown.items()},
        "target": target,
        "met": bool(met),
        "rounds": rounds,
        "raw": dict(raw or {}),
    }


def _figure(value: float | None) -> str:
    """A figure with as many digits as it deserves."""
    if value is None:
        return "not reached"
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        return str(value)
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as a Markdown table (it reads as plain text too), ready for the README."""
    lines = [
        "| case | ours | baselines (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        unit = row["unit"]
        baselines = "; ".join(f"{name} {_figure(v)}" for name, v in row["baselines"].items()) or "—"
        ratios = "; ".join(f"{r:.2f}× {name}" for name, r in row["ratios"].items() if r is not None) or "—"
        verdict = "yes" if row["met"] else "**no**"
        ours = "not reached" if row["ours"] is None else f"{_figure(row['ours'])} {unit}"
        lines.append(f"| {row['case']} | {ours} | {baselines} | {ratios} | {row['target']} | {verdict} |")
    return "\n".join(lines)


def write_results(document: Mapping[str, Any], path: Path = RESULTS) -> None:
    """Keep a run's figures (machine, load, every row with its raw rounds) as JSON."""
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def process_memory(pid: int) -> dict[str, int]:
    """A process's resident memory now (``VmRSS``) and at its peak (``VmHWM``), in KiB, from /proc."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found
