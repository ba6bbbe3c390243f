"""The shape of every tutorial (nbval runs them; this checks they teach and check something).

Each notebook opens with what the reader will learn, checks at least three numerical results
against stored outputs, shows a live app and checks that it rendered, and ends with exercises
whose solutions sit in hidden cells.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]-*.ipynb"))
CHECK = "# NBVAL_CHECK_OUTPUT"
EXPECTED = [
    "01-getting-started",
    "02-pk",
    "03-tmdd",
    "04-receptor-binding",
    "05-stochastic-gene-expression",
    "06-bifurcations",
    "07-identifiability",
    "08-hybrid-tissue",
    "09-virtual-populations",
    "10-sbml",
]


def test_every_tutorial_is_there():
    assert [path.stem for path in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_tutorial_shape(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    first = cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "you will learn" in first.source.lower()
    checked = [c for c in cells if c.cell_type == "code" and CHECK in c.source]
    assert len(checked) >= 3, f"{path.name}: {len(checked)} checked cells"
    for cell in checked:
        assert cell.outputs, f"{path.name}: a checked cell has no stored output (run notebooks/refresh.py)"
    assert any("renders_app(" in c.source for c in checked), f"{path.name}: no check that the app rendered"
    headings = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and "## Exercises" in c.source]
    assert headings, f"{path.name}: no Exercises section"
    solutions = [c for c in cells[headings[-1] :] if c.cell_type == "code" and "solution" in c.metadata.get("tags", [])]
    assert solutions, f"{path.name}: no solution cells after the exercises"
    assert all(c.metadata.get("jupyter", {}).get("source_hidden") for c in solutions)
    unchecked_outputs = [c for c in cells if c.cell_type == "code" and CHECK not in c.source and c.outputs]
    assert not unchecked_outputs, f"{path.name}: stored outputs outside checked cells (run notebooks/refresh.py)"
