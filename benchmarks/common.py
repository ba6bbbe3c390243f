"""Shared benchmark helpers: interleaved timing, medians, table printing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Row:
    """One line of a benchmark table."""

    tool: str
    median_s: float
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def interleaved_medians(
    tasks: dict[str, Callable[[], object]], repeats: int, budget_s: float = 20.0
) -> dict[str, float]:
    """Median wall time of each task, running them round-robin so machine noise hits all alike.

    Each task is called once untimed first (warm-up). Stops early once ``budget_s`` is spent,
    after at least 5 rounds.
    """
    for task in tasks.values():
        task()
    times: dict[str, list[float]] = {name: [] for name in tasks}
    start = time.perf_counter()
    for round_ in range(repeats):
        for name, task in tasks.items():
            t0 = time.perf_counter()
            task()
            times[name].append(time.perf_counter() - t0)
        if round_ >= 4 and time.perf_counter() - start > budget_s:
            break
    return {name: statistics.median(values) for name, values in times.items()}


def fmt_time(seconds: float) -> str:
    """Seconds as a short human-readable string."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    """Print a plain-text table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
