"""A notebook cell whose last expression is a model shows the model's app.

The notebook is executed by a real Jupyter kernel (nbclient); the cell's output mime bundle
must carry the Panel/Bokeh payload: the HoloViews exec mime type and an HTML document whose
embedded Bokeh models include the parameter sliders and a figure.
"""

from __future__ import annotations

import re

import nbclient
import nbformat
import pytest

pytestmark = pytest.mark.slow


def run(tmp_path, source: str):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    return notebook.cells[0].outputs


@pytest.mark.parametrize(
    ("source", "label"),
    [
        ("import workbench as wb\nwb.TMDD()", "kon [1/(nM h)]"),
        ("import workbench as wb\nwb.app(wb.BirthDeath())", "k [molecules/h]"),
    ],
)
def test_a_displayed_model_renders_its_app(tmp_path, source, label):
    outputs = run(tmp_path, source)
    assert not [o for o in outputs if o.output_type == "error"]
    result = next(o for o in outputs if o.output_type == "execute_result")
    assert "application/vnd.holoviews_exec.v0+json" in result.data
    html = result.data["text/html"]
    assert "docs_json" in html and "data-root-id" in html
    models = set(re.findall(r'"name":"([A-Za-z]+)"', html))
    assert {"Slider", "Figure", "ColumnDataSource", "TabPanel"} <= models
    assert label in html  # the slider labels carry the units
