"""Nothing a user types or uploads is executed, and the server is not reachable by accident.

The package source is scanned for every way Python runs a string as code; reaction equations
are read by our own grammar (hypothesis feeds it arbitrary text, code included); ``workbench
serve`` binds to localhost unless told otherwise and never turns the websocket origin check off.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench
from workbench import cli
from workbench.core.network import ReactionNetwork, parse_equation
from workbench.errors import ReactionParseError, WorkbenchError

SOURCE = Path(workbench.__file__).parent
#: Calls that run a string as code, or load objects that run code when read.
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile"}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle"}
FORBIDDEN_ATTRIBUTES = {("yaml", "load"), ("yaml", "unsafe_load"), ("numpy", "load"), ("np", "load")}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                found.append(f"{where}: {func.id}()")
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if (func.value.id, func.attr) in FORBIDDEN_ATTRIBUTES:
                    found.append(f"{where}: {func.value.id}.{func.attr}()")
                if func.value.id == "builtins" and func.attr in FORBIDDEN_CALLS:
                    found.append(f"{where}: builtins.{func.attr}()")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{where}: import {name}")
    return found


def test_the_package_never_runs_a_string_as_code():
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 40  # the scan sees the whole package
    violations = [v for path in files for v in _violations(path)]
    assert not violations, "\n".join(violations)


def test_the_scan_would_see_a_violation(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text("import pickle\nx = eval('1')\n__import__('os')\nnp.load('f')\nbuiltins.exec('')\n")
    assert len(_violations(bad)) == 5


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=st.text(max_size=60) | st.sampled_from(["__import__('os').system('x') -> A", "A -> B; exec('x')"]))
def test_reaction_equations_are_read_by_our_grammar_or_refused(text):
    try:
        reactants, products, _ = parse_equation(text)
    except ReactionParseError as err:
        assert str(err)
        return
    for name, coef in {**reactants, **products}.items():
        assert name.isidentifier() and coef >= 1, (text, name)


@pytest.mark.parametrize("equation", ["os.system('rm') -> A", "A -> B + (lambda: 0)()", "A -> B; import os"])
def test_code_in_a_reaction_is_an_error_not_a_species(equation):
    with pytest.raises(WorkbenchError):
        ReactionNetwork(species={"A": 1.0, "B": 0.0}, parameters={"k": 1.0}, reactions=[(equation, "k")])


def test_serve_binds_to_localhost_and_keeps_the_origin_check(monkeypatch):
    calls = []
    monkeypatch.setattr("workbench.views.serve", lambda **kwargs: calls.append(kwargs))
    assert cli.main(["serve", "--port", "5999"]) == 0
    assert calls[-1]["address"] == "localhost" and calls[-1]["allow_origins"] is None


def test_serving_beyond_localhost_needs_allowed_origins(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr("workbench.views.serve", lambda **kwargs: calls.append(kwargs))
    assert cli.main(["serve", "--address", "0.0.0.0"]) == 2
    assert not calls and "--allow-origin" in capsys.readouterr().out
    assert cli.main(["serve", "--address", "0.0.0.0", "--allow-origin", "lab.example:5006"]) == 0
    assert calls[-1]["allow_origins"] == ["lab.example:5006"]


def test_the_gallery_server_limits_websocket_messages(monkeypatch):
    from workbench.views import gallery

    seen = {}
    monkeypatch.setattr(gallery.pn, "serve", lambda routes, **kwargs: seen.update(kwargs))
    gallery.serve(port=5999)
    assert seen["websocket_origin"] == ["localhost:5999", "127.0.0.1:5999"]
    assert seen["address"] == "localhost"
    assert seen["websocket_max_message_size"] == gallery.MAX_MESSAGE_BYTES <= 20 * 2**20
