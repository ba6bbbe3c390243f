"""Package-level guarantees: light imports, cached kernels, the command line."""

import json
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numba
import pytest

import workbench
from workbench.core import continuation, kinetics, linalg, ode, random, stochastic, tissue


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_module(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "workbench", *args], capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_does_not_load_ui_or_heavy_scipy():
    out = run_python(
        """
        import json, sys
        import workbench
        print(json.dumps(sorted(sys.modules)))
        """
    )
    modules = set(json.loads(out))
    for heavy in ("panel", "holoviews", "bokeh", "ipywidgets", "pandas", "matplotlib"):
        assert heavy not in modules, heavy
    # numba imports the bare scipy package to check its version; no scipy subpackage is loaded
    for sub in ("integrate", "optimize", "linalg", "sparse", "special", "stats", "interpolate"):
        assert f"scipy.{sub}" not in modules, sub


def _dispatchers():
    for module in (continuation, kinetics, linalg, ode, random, stochastic, tissue):
        for name, obj in vars(module).items():
            if isinstance(obj, numba.core.registry.CPUDispatcher):
                yield f"{module.__name__}.{name}", obj


@pytest.mark.parametrize(("name", "dispatcher"), list(_dispatchers()))
def test_every_kernel_is_disk_cached_with_the_numpy_error_model(name, dispatcher):
    assert type(dispatcher._cache).__name__ == "FunctionCache", f"{name} is not cache=True"
    # numpy's error model returns inf/nan instead of raising, which also lets numba prune
    # reference counting (measured: 10x faster rate evaluation)
    assert dispatcher.targetoptions.get("error_model") == "numpy", name
    # background refinements (SSA ensembles, tissue runs) must not hold the GIL while the
    # app redraws in the main thread
    assert dispatcher.targetoptions.get("nogil") is True, name


def test_a_fresh_process_loads_every_kernel_from_the_cache():
    run_python(
        "from workbench.core.warmup import warmup; warmup(progress=None)\n"
        "from workbench.sbml.reader import warm_event_loop; warm_event_loop()"
    )
    out = run_python(
        """
        DATA = "__DATA__"
        import json
        import workbench as wb
        from workbench.core.warmup import kernel_dispatchers
        for cls in wb.MODELS.values():
            cls().simulate()
        wb.HybridTissue(mode="continuum", t_end=5.0).simulate()
        wb.HybridTissue(scheme="explicit", dt=0.01, t_end=0.05).simulate()
        from workbench.analysis import effective_diffusivity
        effective_diffusivity([1.0, 2.0], [1.0, 1.0])
        wb.PBPK(permeability_limited=["liver"], effect_compartment=True).simulate()
        wb.TMDD(reduction="qss").simulate()
        wb.TMDD(reduction="mm").simulate()
        wb.TwoStageExpression().ssa(5, seed=1)
        wb.TwoStageExpression().ssa(5, seed=1, method="tau_leap")
        wb.BirthDeath().cle(5, seed=1)
        wb.fim(wb.TMDD(), ["D"], [10.0, 20.0])
        wb.continuation(wb.AutoActivation(), "gamma", (0.3, 3.0))
        misses = {name: len(d.stats.cache_misses) for name, d in kernel_dispatchers().items()}
        from workbench.sbml import events
        from workbench.sbml.reader import warm_event_loop
        wb.load_sbml(DATA).simulate()
        warm_event_loop()  # a single run and an ensemble
        misses["sbml event loop"] = len(events._simulate_seeded.stats.cache_misses)
        misses["sbml event ensemble"] = len(events._simulate_runs.stats.cache_misses)
        print(json.dumps(misses))
        """.replace("__DATA__", str(Path(__file__).parent / "data" / "enzyme_inhibition.xml"))
    )
    misses = json.loads(out.strip().splitlines()[-1])
    assert misses == dict.fromkeys(misses, 0), misses


def test_cli_warmup_and_demo():
    warm = run_module("warmup", "--jobs", "2")
    # two processes compile (here: load, after make test's warmup), then one pass finds every kernel cached
    assert "in 2 processes" in warm and "sbml event loop" in warm
    last_pass = warm.split("Every kernel, from the cache")[1]
    assert "integrate_network" in warm and "ssa_ensemble" in last_pass and "sbml event loop" in last_pass
    assert "  compiled" not in last_pass, last_pass
    only = run_module("warmup", "--only", "network_rhs,reaction_rates")
    assert "network_rhs" in only and "ssa_ensemble" not in only and "sbml event loop" not in only
    command = [sys.executable, "-m", "workbench", "warmup", "--only", "nope"]
    wrong = subprocess.run(command, capture_output=True, text=True, check=False)
    assert wrong.returncode == 2 and "unknown kernels ['nope']" in wrong.stderr
    demo = run_module("demo")
    assert "AUC(0-inf)" in demo and "cl_apparent" in demo


def test_version():
    assert workbench.__version__


def test_binder_pins_every_runtime_dependency():
    """postBuild installs the package without dependencies: binder/requirements.txt must pin
    each one (a missing libsbml broke the Binder tutorials once)."""

    root = Path(__file__).resolve().parents[1]
    dependencies = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in dependencies}
    pinned = {
        line.split("==")[0].strip().lower().replace("_", "-")
        for line in (root / "binder" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }
    assert names <= pinned, sorted(names - pinned)
