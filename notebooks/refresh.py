"""Re-execute the tutorials and store the outputs CI compares.

    python notebooks/refresh.py                 # every notebook
    python notebooks/refresh.py 02-pk.ipynb     # some

Each notebook runs top to bottom in a fresh kernel of this environment, in this directory.
Only the outputs of cells marked ``# NBVAL_CHECK_OUTPUT`` are kept (nbval compares them);
every other output is dropped: app outputs carry random ids, and stored figures would only
bloat the repository. Prints each notebook's run time (CI's budget is 5 minutes in all).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
CHECK = "# NBVAL_CHECK_OUTPUT"


def notebooks(names: list[str]) -> list[Path]:
    """The tutorial notebooks (all, or those named), in order."""
    if names:
        return [HERE / Path(name).name for name in names]
    return sorted(HERE.glob("[0-9][0-9]-*.ipynb"))


def refresh(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` and keep only the checked outputs; returns the run time in seconds."""
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    ).execute()
    elapsed = time.perf_counter() - start
    count = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if CHECK in cell.source:
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
        else:
            cell.outputs = []
            cell.execution_count = None
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(notebook, path)
    return elapsed


def main(argv: list[str]) -> int:
    total = 0.0
    for path in notebooks(argv):
        seconds = refresh(path)
        total += seconds
        print(f"{path.name}: {seconds:.1f} s")
    print(f"total: {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
