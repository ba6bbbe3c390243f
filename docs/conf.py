"""Sphinx configuration: MyST Markdown pages, the tutorials rendered by myst-nb, the API from
numpydoc docstrings (napoleon), the PyData theme. Build: ``make docs`` (warnings are errors)."""

from __future__ import annotations

import workbench

project = "workbench"
author = "the workbench developers"
copyright = "2026, the workbench developers"  # noqa: A001  (Sphinx's name)
release = workbench.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

# The tutorials are executed by nbval in CI; the docs show their stored, checked outputs.
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

exclude_patterns = ["_build", "tutorials/README.md", "screenshots"]
templates_path = []
html_static_path = []

napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}

html_theme = "pydata_sphinx_theme"
html_title = "workbench"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}

# Attribute names such as ``species`` or ``parameter`` exist on several result classes; an
# unqualified mention may resolve to any of them, which is harmless.
suppress_warnings = ["ref.python"]
