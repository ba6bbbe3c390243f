"""Run every benchmark (or those named on the command line) and print their tables.

    python benchmarks/run.py            # all
    python benchmarks/run.py tmdd_ode   # one

Peers are measured in the same run; quote ratios, not absolute times (shared machines).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

BENCHMARKS = [
    "tmdd_ode",
    "kernel_calls",
    "ssa",
    "analyses",
    "tissue",
    "views",
    "first_plot",
    "population",
    "sbml_import",
]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {sorted(unknown)}; available: {BENCHMARKS}")
        return 2
    for name in names:
        importlib.import_module(name).main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
