"""Property-based tests over every model's declared parameter bounds (hypothesis).

For each model, hypothesis draws every parameter: mostly inside its slider range (log-uniform
for rate constants), often at or beyond its ends up to the hard bounds (zero where allowed,
values a thousand times past the slider). Then the model is simulated and analysed the way the
apps do (NCA, steady state, equilibria, FIM, LNA, an SSA ensemble, continuation). Every call
must either return finite results or raise a ``WorkbenchError`` with a message: never another
exception, never a warning (pytest turns warnings into errors), never a silent NaN, never a
hang (each example runs under a time budget, and a stopped solver says so).

NaN is allowed only where a result declares a quantity not estimable: the NCA's terminal
phase when no terminal phase was found (``n_terminal == 0``), and its CL and Vz without a dose.

``WORKBENCH_FUZZ_EXAMPLES`` sets the number of examples per model (default 12, derandomized so
CI is reproducible); ``WORKBENCH_FUZZ_REPORT=file.json`` writes the outcome counts, the
figures of the reliability page in docs/.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import param
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.core.control import limits
from workbench.errors import WorkbenchError
from workbench.models import MODELS, Quantity

EXAMPLES = int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "12"))
#: Seconds each analysis of an example may take before its solver is stopped.
BUDGET = 3.0
#: Sizes whose extreme values cost memory, not numerics: drawn inside their slider range.
SIZES = {"nx", "n_cells", "max_cells", "n_points"}
#: Outcomes seen, per (model, analysis): "ok" or the error's class and reason.
OUTCOMES: Counter = Counter()


def _number(parameter: param.Number, log: bool):
    soft_lo, soft_hi = parameter.softbounds
    hard_lo, hard_hi = parameter.bounds or (None, None)
    lo = hard_lo if hard_lo is not None else soft_lo
    hi = hard_hi if hard_hi is not None else soft_hi * 1e3
    include_lo, include_hi = parameter.inclusive_bounds
    if not include_lo:  # an open bound: as close as a user could get, relative to the range
        lo = lo + 1e-12 * max(abs(soft_hi), 1e-300)
    if not include_hi and hard_hi is not None:
        hi = hi - 1e-12 * max(abs(hi), 1e-300)
    inside = (
        st.floats(math.log(max(soft_lo, 1e-12)), math.log(soft_hi)).map(math.exp)
        if log and soft_hi > 0
        else st.floats(soft_lo, soft_hi)
    )
    edges = [st.just(float(lo)), st.just(float(hi))]
    if log and soft_hi > 0:
        edges.append(st.floats(math.log(soft_hi), math.log(max(hi, soft_hi * 1.0001))).map(math.exp))
        edges.append(st.floats(math.log(max(lo, soft_lo * 1e-3, 1e-300)), math.log(max(soft_lo, 1e-300))).map(math.exp))
    return st.one_of(inside, inside, inside, *edges).map(lambda v: min(max(v, lo), hi))


def parameter_strategy(cls) -> st.SearchStrategy[dict]:
    """Values for every declared parameter of ``cls``, inside its hard bounds."""
    fields = {}
    for name, parameter in cls.param.objects().items():
        if name == "name":
            continue
        log = bool((parameter.metadata or {}).get("log"))
        if isinstance(parameter, param.Integer):
            soft_lo, soft_hi = parameter.softbounds or parameter.bounds
            hard_lo, hard_hi = parameter.bounds or (soft_lo, soft_hi)
            hi = soft_hi if name in SIZES else (hard_hi if hard_hi is not None else 10 * soft_hi)
            fields[name] = st.integers(max(hard_lo if hard_lo is not None else soft_lo, 0), int(hi))
        elif isinstance(parameter, Quantity):
            fields[name] = _number(parameter, log)
        elif isinstance(parameter, param.Boolean):
            fields[name] = st.booleans()
        elif isinstance(parameter, param.ListSelector):
            fields[name] = st.lists(st.sampled_from(parameter.objects), unique=True)
        elif isinstance(parameter, param.Selector):
            fields[name] = st.sampled_from(parameter.objects)
    return st.fixed_dictionaries(fields)


def _finite(value, where: str) -> None:
    """Every number reachable in a result is finite (arrays, mappings, result objects)."""
    if isinstance(value, (bool, str)) or value is None:
        return
    if isinstance(value, (int, float, np.number)):
        assert np.isfinite(value), f"{where} is {value}"
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            assert np.all(np.isfinite(value)), f"{where} holds non-finite values"
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _finite(item, f"{where}[{key!r}]")
        return
    if isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            _finite(item, f"{where}[{k}]")


def _check_nca(result) -> None:
    for field in ("cmax", "tmax", "clast", "tlast", "auc_0_t"):
        _finite(getattr(result, field), f"NCA {field}")
    if result.n_terminal > 0:
        for field in ("lambda_z", "t_half", "auc_0_inf", "r2_adjusted"):
            _finite(getattr(result, field), f"NCA {field} (terminal phase of {result.n_terminal} points)")


def _trajectory(model):
    traj = model.simulate()
    _finite(traj.t, "t")
    for name in traj.names:
        _finite(traj[name], f"trajectory {name}")
    return traj


def analyses(model):
    """(name, thunk) of what the apps compute for this model."""
    if not model.network_based:
        yield "simulate", lambda: _check_tissue(model.simulate())
        return
    yield "simulate", lambda: _trajectory(model)
    if model.doses():

        def nca():
            traj = model.simulate()
            _check_nca(wb.nca(traj, model.plot_columns(traj)[0]))

        yield "nca", nca
    yield "steady_state", lambda: _finite(wb.steady_state(model).values, "steady state")
    yield "equilibria", lambda: [_finite(s.values, "equilibrium") for s in wb.analysis.equilibria(model)]
    species = list(model.network().species)
    times = np.linspace(model.t_end / 20, model.t_end, 8)
    yield "fim", lambda: _finite(wb.fim(model, species[:1], times).eigenvalues, "FIM eigenvalues")
    if not model.doses():
        yield "lna", lambda: _finite(wb.lna(model).covariance, "LNA covariance")
        yield "ssa", lambda: _finite(model.ssa(8, seed=1, n_points=11).counts.astype(float), "SSA counts")
        parameter = (model.bifurcation_default or wb.analysis.default_parameters(model))[0]
        value = float(getattr(model, parameter))
        if value > 0:
            yield (
                "continuation",
                lambda: _finite(
                    wb.analysis.continuation(model, parameter, (value / 3, value * 3), max_points=400).values,
                    "branch",
                ),
            )


def _check_tissue(result) -> None:
    for key, series in result.summary.items():
        _finite(series, f"tissue series {key}")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_analysis_returns_finite_results_or_a_clear_error(name):
    cls = MODELS[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(values=parameter_strategy(cls))
    def check(values):
        try:
            model = cls(**values)
        except WorkbenchError as err:
            assert str(err), "an error without a message"
            OUTCOMES[(name, "construct", type(err).__name__)] += 1
            return
        for analysis, run in analyses(model):
            try:
                with limits(seconds=BUDGET):
                    run()
            except WorkbenchError as err:
                assert str(err).strip(), f"{analysis}: an error without a message"
                OUTCOMES[(name, analysis, f"{type(err).__name__}:{getattr(err, 'reason', '')}")] += 1
            else:
                OUTCOMES[(name, analysis, "ok")] += 1

    check()


def test_fuzzing_reached_every_analysis():
    # a strategy that always failed at construction would make the property vacuous
    if not OUTCOMES:
        pytest.skip("run with the fuzz tests above")
    report = os.environ.get("WORKBENCH_FUZZ_REPORT")
    if report:  # the figures of the reliability page
        rows = [{"model": m, "analysis": a, "outcome": o, "count": n} for (m, a, o), n in sorted(OUTCOMES.items())]
        Path(report).write_text(json.dumps({"examples_per_model": EXAMPLES, "outcomes": rows}, indent=1))
    for name in MODELS:
        ok = sum(n for (model, analysis, outcome), n in OUTCOMES.items() if model == name and outcome == "ok")
        assert ok > 0, f"no example of {name} ran any analysis to completion"
