"""Compile and cache every numba kernel, so a fresh Python process starts fast.

Numba caches compiled machine code on disk next to the sources (or in ``NUMBA_CACHE_DIR``).
:func:`warmup` calls each kernel that Python code calls directly, with arguments of exactly
the types the library uses, so that later processes load the code instead of compiling it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from . import batch, continuation, expression, kinetics, ode, stochastic, tissue
from .dosing import Bolus, Infusion, events_to_arrays
from .network import ReactionNetwork, Species
from .ratelaws import Expression, Flow, Hill, MichaelisMenten, QuasiEquilibrium
from .sensitivity import integrate_with_sensitivities

__all__ = ["entry_points", "kernel_dispatchers", "warmup"]


def _zoo(with_expression: bool = True) -> ReactionNetwork:
    """A small network that uses every rate-law kind, compartments and a constant species.

    Without the expression law it is a built-in network: the kernels compile separately for
    the two array types (see ``kinetics.ExpressionNetworkArrays``).
    """
    expression = [
        (
            "C -> A",
            Expression(
                (
                    "*",
                    ("sym", "k1"),
                    ("select", ("gt", ("sym", "C"), ("num", 0.0)), ("sym", "C"), ("exp", ("sym", "A"))),
                )
            ),
        )
    ]
    return ReactionNetwork(
        species={
            "A": Species(1.0, "c1"),
            "B": Species(0.5, "c2"),
            "C": 0.2,
            "S": Species(1.0, constant=True),
        },
        parameters={"k1": 1.0, "k2": 0.5, "vmax": 1.0, "km": 0.5, "n": 2.0, "q": 0.3, "kp": 2.0, "V1": 2.0, "V2": 1.0},
        compartments={"c1": "V1", "c2": "V2"},
        reactions=[
            ("A + S -> B", "k1"),
            ("2 B -> C", "k2"),
            ("C ->", MichaelisMenten("vmax", "km")),
            ("-> A", Hill("vmax", "km", "n", regulator="C")),
            ("-> C", Hill("vmax", "km", "n", regulator="A", repress=True)),
            ("A -> B", Flow("q", "kp")),
            ("A + B ->", QuasiEquilibrium("k1", "km", "A", "B")),
            ("B ->", QuasiEquilibrium("k2", "km", "B", "A", form="free")),
            *(expression if with_expression else []),
        ],
    )


def entry_points() -> Iterator[tuple[str, Callable[[], object]]]:
    """(name, thunk) pairs that exercise each kernel the library calls from Python."""
    net = _zoo(with_expression=False)
    imported = _zoo()  # the same with an expression law, as SBML imports have
    y = net.initial_vector()
    doses = [Bolus("A", 1.0, 0.5), Infusion("B", rate=1.0, duration=1.0, start=0.2)]
    both = (net, imported)
    yield "integrate_network", lambda: [n.simulate(t_end=2.0, n_points=5, doses=doses, method="auto") for n in both]
    yield "reaction_rates", lambda: [n.rates(y) for n in both]
    yield "network_rhs", lambda: [n.rhs(y) for n in both]
    yield "network_jacobian", lambda: [n.jacobian(y) for n in both]
    yield "qe_complex", lambda: kinetics.qe_complex(1.0, 2.0, 0.5)
    yield (
        "run_programs",
        lambda: (
            expression.evaluate(("+", ("sym", "a"), ("num", 1.0)), {"a": 1.0}),
            expression.run_all(expression.compile_programs([("y", 0), ("p", 0)]), np.zeros((2, 1)), np.ones(1)),
        ),
    )
    counts = ReactionNetwork(
        species={"G": 1.0, "M": 0.0},
        parameters={"k": 2.0, "g": 1.0, "v": 1.0, "K": 1.0, "n": 2.0},
        reactions=[("G -> G + M", "k"), ("M ->", "g"), ("-> M", Hill("v", "K", "n", regulator="M"))],
    )
    counted = ReactionNetwork(
        species={"X": 0.0},
        parameters={"b": 2.0, "d": 1.0},
        reactions=[("-> X", Expression(("sym", "b"))), ("X ->", Expression(("*", ("sym", "d"), ("sym", "X"))))],
    )
    yield (
        "ssa_ensemble",
        lambda: [n.ssa(1.0, 3, 4, seed=0, method=m) for m in ("direct", "tau_leap") for n in (counts, counted)],
    )
    yield "cle_ensemble", lambda: [n.cle(1.0, 3, 4, seed=0) for n in (counts, counted)]
    yield "network_dfdp", lambda: [kinetics.network_dfdp(
        n.arrays, n.parameter_vector(), np.zeros(y.size), y, np.empty(len(n.reactions)), np.empty(y.size),
        np.empty((y.size, n.parameter_vector().size)),
    ) for n in both]  # fmt: skip
    yield "integrate_sensitivities", lambda: [_sensitivities(n, doses) for n in both]
    yield from _continuation(counts)
    yield from _tissue()
    yield from _batch(net, doses)


def _batch(net: ReactionNetwork, doses):
    """The population kernels, with the argument types ``analysis.population`` passes."""
    p_rows = np.repeat(net.parameter_vector()[None, :], 2, axis=0)
    times = np.linspace(0.0, 2.0, 5)
    ev_t, ev_sp, ev_kind, ev_val = events_to_arrays(doses, net.species_index)
    out = np.empty((2, times.size, 1))
    yield "integrate_batch", lambda: batch.integrate_batch(
        net.arrays, p_rows, net.initial_vector(), 0.0, times, ev_t, ev_sp, ev_kind,
        np.repeat(ev_val[None, :], 2, axis=0), ode.METHODS["auto"], 1e-6, 1e-9, 1000, np.zeros(1, dtype=np.int64),
        np.array([0]), out,
        np.zeros(2, dtype=np.int64),
    )  # fmt: skip
    yield (
        "nca_batch",
        lambda: batch.nca_batch(
            times, np.exp(-np.outer([1.0, 2.0], times)), 0.0, np.empty((2, len(batch.NCA_COLUMNS)))
        ),
    )


def _sensitivities(net: ReactionNetwork, doses) -> None:
    p = net.parameter_vector()
    y0 = net.initial_vector()
    events = events_to_arrays(doses, net.species_index)
    n_theta = 2
    g = np.zeros((p.size, n_theta))
    g[0, 0] = g[1, 1] = 1.0
    integrate_with_sensitivities(
        net.arrays, p, y0, np.zeros((y0.size, n_theta)), g, np.linspace(0.0, 1.0, 3), events,
        np.zeros((events[0].size, n_theta)),
    )  # fmt: skip


def _continuation(net: ReactionNetwork):
    p = net.parameter_vector()
    y = net.initial_vector() + 1.0
    q = np.eye(y.size)
    x0 = np.zeros(y.size + 1)
    x0[-1] = p[0]
    t0 = np.zeros(y.size + 1)
    t0[-1] = 1.0
    yield "reduced_jacobian", lambda: continuation.reduced_jacobian(net.arrays, p, y, q, np.empty((y.size, y.size)))
    yield (
        "correct",
        lambda: continuation.correct(
            net.arrays, p.copy(), 0, 1.0, y, q, x0, t0, 0.0, 1e-10, 2, np.empty(y.size + 1), np.empty(y.size + 1)
        ),
    )
    yield "continue_branch", lambda: continuation.continue_branch(
        net.arrays, p.copy(), 0, 1.0, y, q, x0, t0, 0.0, 10.0, 0.1, 1e-8, 0.5, 1e-10, 3, True,
        np.zeros(1, dtype=np.int64), np.zeros((3, y.size + 1)), np.zeros((3, y.size + 1)), np.zeros((2, y.size + 1)),
        np.zeros(continuation.N_INFO),
    )  # fmt: skip


def _tissue():
    nx = ny = 4
    h = 1.0
    diff = np.ones((nx, ny))
    bc = np.array([tissue.DIRICHLET, tissue.NO_FLUX, tissue.NO_FLUX, tissue.NO_FLUX], dtype=np.int64)
    bc_val = np.ones(4)
    c = np.zeros((nx, ny))
    cx = np.empty((4, nx, ny))
    cy = np.empty((4, nx, ny))
    work = (np.empty((nx, ny)), np.empty((nx, ny)))
    ledger = np.zeros(tissue.N_LEDGER)
    xs = np.array([1.0, 2.5])
    ys = np.array([1.0, 3.0])
    values = np.empty(2)
    grad = (np.empty(2), np.empty(2))
    yield (
        "line_coefficients",
        lambda: [tissue.line_coefficients(diff, 0.1, 1.0, bc, bc_val, a, *co) for a, co in ((0, cx), (1, cy))],
    )
    yield (
        "adi_step",
        lambda: tissue.adi_step(c, diff, 0.1, 0.1, h, bc, bc_val, np.zeros((nx, ny)), cx, cy, *work, ledger),
    )
    yield (
        "explicit_step",
        lambda: tissue.explicit_step(c, diff, 0.1, 0.1, h, bc, bc_val, np.zeros((nx, ny)), cx, cy, *work, ledger),
    )
    yield "sample_field", lambda: tissue.sample_field(c, h, xs, ys, 2, values, *grad)
    yield (
        "agent_uptake",
        lambda: tissue.agent_uptake(c, h, xs, ys, 2, 1.0, 1.0, 0.1, np.empty((nx, ny)), values, ledger),
    )
    yield "density_uptake", lambda: tissue.density_uptake(c, h, np.ones((nx, ny)), 1.0, 1.0, 0.1, ledger)
    yield "move_agents", lambda: tissue.move_agents(xs, ys, 2, *grad, np.zeros((2, 2)), 0.1, 0.0, 4.0, 4.0)


def kernel_dispatchers() -> dict[str, object]:
    """The numba dispatchers called from Python, by name."""
    return {
        "integrate_network": ode.integrate_network,
        "reaction_rates": kinetics.reaction_rates,
        "network_rhs": kinetics.network_rhs,
        "network_jacobian": kinetics.network_jacobian,
        "qe_complex": kinetics.qe_complex,
        "run_programs": expression.run_programs,
        "ssa_ensemble": stochastic.ssa_ensemble,
        "cle_ensemble": stochastic.cle_ensemble,
        "network_dfdp": kinetics.network_dfdp,
        "integrate_sensitivities": ode.integrate_sensitivities,
        "reduced_jacobian": continuation.reduced_jacobian,
        "correct": continuation.correct,
        "continue_branch": continuation.continue_branch,
        "line_coefficients": tissue.line_coefficients,
        "adi_step": tissue.adi_step,
        "explicit_step": tissue.explicit_step,
        "sample_field": tissue.sample_field,
        "agent_uptake": tissue.agent_uptake,
        "density_uptake": tissue.density_uptake,
        "move_agents": tissue.move_agents,
        "integrate_batch": batch.integrate_batch,
        "nca_batch": batch.nca_batch,
    }


def warmup(progress: Callable[[str], None] | None = print, names: Sequence[str] | None = None) -> dict[str, float]:
    """Compile (or load from the cache) every kernel; return the seconds each took.

    Parameters
    ----------
    progress : callable, optional
        Called with one line per kernel (default: print). ``None`` for silence.
    names : sequence of str, optional
        Only these kernels (names as in :func:`kernel_dispatchers`); default every one.
    """
    dispatchers = kernel_dispatchers()
    timings: dict[str, float] = {}
    for name, thunk in entry_points():
        if names is not None and name not in names:
            continue
        stats = dispatchers[name].stats
        misses, hits = sum(stats.cache_misses.values()), sum(stats.cache_hits.values())
        start = time.perf_counter()
        thunk()
        elapsed = time.perf_counter() - start
        timings[name] = elapsed
        if progress is not None:
            stats = dispatchers[name].stats
            if sum(stats.cache_misses.values()) > misses:
                source = "compiled"
            elif sum(stats.cache_hits.values()) > hits:
                source = "loaded from cache"
            else:
                source = "ready (earlier in this process)"
            progress(f"  {name:<24} {elapsed:7.2f} s  {source}")
    return timings
