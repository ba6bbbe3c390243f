"""Hybrid tissue: a ligand field coupled to agent-based cells, and its homogenized continuum.

Units: length in µm, time in min, the field as an areal concentration in molecules per µm²
(a thin tissue layer, depth-integrated), uptake in molecules per min per cell.

Each cell takes up ligand through receptor binding at quasi-steady state. With ``R`` receptors
per cell binding at ``kon``, unbinding at ``koff`` and internalising at ``kint``, the complex is
``B = R c / (Km + c)`` and uptake ``kint B``, so::

    u(c) = Vmax c / (Km + c),   Vmax = kint R,   Km = (koff + kint) / kon.

A cell's internal signal relaxes to its relative uptake, ``dz/dt = gamma_z (u / Vmax - z)``;
with ``proliferation`` on, cells with ``z`` above a threshold divide at a rate and cells below
another threshold die at a rate. Cells move by random motility and, optionally, chemotaxis up
the gradient. Each step couples both ways: the field is sampled at each cell (top-down) and the
cells' uptake is removed from the grid with the same interpolation kernel (bottom-up).

``mode="continuum"`` replaces the agents by their mean density: the same uptake as a
density-weighted sink in the PDE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import param

from ..core import control
from ..core import tissue as kern
from ..errors import ModelError
from .base import Model, quantity

__all__ = ["HybridTissue", "TissueResult"]

#: Time steps one simulation may take: its per-step series (9 floats a step) stay under 150 MB.
MAX_STEPS = 2_000_000
#: Grid cells of the field (500 x 500): a snapshot is 2 MB, a run keeps up to n_points of them.
MAX_GRID_CELLS = 250_000

_BC = ["no_flux", "dirichlet"]


@dataclass
class TissueResult:
    """Snapshots of the field and the agents, and per-step summary series.

    Attributes
    ----------
    times : float64[n_snapshots]
    fields : float64[n_snapshots, nx, ny]
    agents : list of dict
        Per snapshot: arrays ``x``, ``y``, ``signal`` and ``uptake`` (amount per min).
    x, y : float64
        Grid cell centres (µm).
    summary : dict of float64 arrays
        Per step (and t = 0): ``t``, ``field_amount``, ``uptake_rate`` (all cells, per min),
        ``mean_signal``, ``cell_count``, and the cumulative ledger ``supplied``, ``out``,
        ``decayed``, ``taken_up``.
    """

    times: np.ndarray
    fields: np.ndarray
    agents: list[dict[str, np.ndarray]]
    x: np.ndarray
    y: np.ndarray
    summary: dict[str, np.ndarray] = field(default_factory=dict)

    def mass_balance_error(self) -> float:
        """Largest relative ``abs(field + taken up + decayed + out - initial - supplied)`` of the run.

        Relative to the largest amount involved.
        """
        s = self.summary
        lhs = s["field_amount"] + s["taken_up"] + s["decayed"] + s["out"]
        rhs = s["field_amount"][0] + s["supplied"]
        scale = max(float(np.max(np.abs(lhs))), float(np.max(np.abs(rhs))), 1e-300)
        return float(np.max(np.abs(lhs - rhs)) / scale)

    def agent_table(self, snapshot: int = -1):
        """The agents of one snapshot as a :class:`pandas.DataFrame`."""
        import pandas as pd  # noqa: PLC0415  (pandas is heavy; loaded only for tables)

        return pd.DataFrame(self.agents[snapshot])

    def summary_table(self):
        """The summary series as a :class:`pandas.DataFrame`."""
        import pandas as pd  # noqa: PLC0415

        return pd.DataFrame(self.summary)


class HybridTissue(Model):
    """Reaction-diffusion field with agent-based cells, coupled both ways every step."""

    abstract = False
    network_based = False
    time_unit = "min"

    width = quantity(
        1000.0, unit="µm", doc="Domain width (x)", positive=True, softbounds=(100.0, 5000.0), group="domain"
    )
    height = quantity(
        1000.0, unit="µm", doc="Domain height (y)", positive=True, softbounds=(100.0, 5000.0), group="domain"
    )
    nx = param.Integer(
        100, bounds=(2, 4096), softbounds=(10, 512), doc="Grid cells along x", metadata={"unit": "-", "group": "domain"}
    )
    D = quantity(
        600.0,
        unit="µm²/min",
        doc="Diffusivity of the ligand",
        positive=True,
        softbounds=(1.0, 10000.0),
        log=True,
        group="field",
    )
    decay = quantity(
        0.01, unit="1/min", doc="Linear decay rate constant of the ligand", softbounds=(0.0, 1.0), group="field"
    )
    left = param.Selector(default="dirichlet", objects=_BC, doc="Boundary at x = 0", metadata={"group": "field"})
    right = param.Selector(default="no_flux", objects=_BC, doc="Boundary at x = width", metadata={"group": "field"})
    bottom = param.Selector(default="no_flux", objects=_BC, doc="Boundary at y = 0", metadata={"group": "field"})
    top = param.Selector(default="no_flux", objects=_BC, doc="Boundary at y = height", metadata={"group": "field"})
    boundary_value = quantity(
        10.0,
        unit="molecules/µm²",
        doc="Ligand concentration held at Dirichlet sides",
        softbounds=(0.0, 100.0),
        group="field",
    )
    vessel_rate = quantity(
        0.0,
        unit="molecules/min",
        doc="Release of a vertical line source (a vessel)",
        softbounds=(0.0, 1e6),
        group="field",
    )
    vessel_x = quantity(500.0, unit="µm", doc="Position of the vessel along x", softbounds=(0.0, 5000.0), group="field")

    n_cells = param.Integer(
        1000,
        bounds=(0, 10_000_000),
        softbounds=(0, 20000),
        doc="Initial number of cells",
        metadata={"unit": "-", "group": "cells"},
    )
    receptors = quantity(
        1000.0, unit="molecules", doc="Receptors per cell", softbounds=(1.0, 1e6), log=True, group="uptake"
    )
    kon = quantity(
        0.01,
        unit="µm²/(molecule min)",
        doc="Ligand-receptor association rate constant",
        positive=True,
        softbounds=(1e-5, 1.0),
        log=True,
        group="uptake",
    )
    koff = quantity(
        0.1,
        unit="1/min",
        doc="Ligand-receptor dissociation rate constant",
        softbounds=(1e-4, 10.0),
        log=True,
        group="uptake",
    )
    kint = quantity(
        0.05,
        unit="1/min",
        doc="Internalisation rate constant of the complex",
        positive=True,
        softbounds=(1e-4, 10.0),
        log=True,
        group="uptake",
    )
    motility = quantity(
        10.0, unit="µm²/min", doc="Random motility coefficient of cells", softbounds=(0.0, 1000.0), group="cells"
    )
    chemotaxis = quantity(
        0.0,
        unit="µm⁴/(molecule min)",
        doc="Chemotactic sensitivity (drift per unit gradient)",
        softbounds=(0.0, 1000.0),
        group="cells",
    )
    gamma_signal = quantity(
        0.1,
        unit="1/min",
        doc="Decay rate of the internal signal",
        positive=True,
        softbounds=(0.001, 10.0),
        log=True,
        group="cells",
    )
    proliferation = param.Boolean(
        False, doc="Cells divide and die according to their signal", metadata={"group": "cells"}
    )
    division_rate = quantity(
        0.01,
        unit="1/min",
        doc="Division rate of cells with signal above the threshold",
        softbounds=(0.0, 0.1),
        group="cells",
    )
    division_threshold = quantity(
        0.5, unit="-", doc="Signal above which cells divide", bounds=(0.0, 1.0), softbounds=(0.0, 1.0), group="cells"
    )
    death_rate = quantity(
        0.005,
        unit="1/min",
        doc="Death rate of cells with signal below the threshold",
        softbounds=(0.0, 0.1),
        group="cells",
    )
    death_threshold = quantity(
        0.05, unit="-", doc="Signal below which cells die", bounds=(0.0, 1.0), softbounds=(0.0, 1.0), group="cells"
    )
    max_cells = param.Integer(
        200_000,
        bounds=(1, 10_000_000),
        softbounds=(1000, 1_000_000),
        doc="Cap on the number of cells",
        metadata={"unit": "-", "group": "cells"},
    )

    stiffness = quantity(
        10.0,
        unit="kPa",
        doc="Young's modulus of the strip (mechanics view)",
        positive=True,
        softbounds=(0.1, 1000.0),
        log=True,
        group="mechanics",
    )
    active_coupling = quantity(
        2.0,
        unit="kPa",
        doc="Active stress per unit of mean signal (positive contracts)",
        softbounds=(0.0, 20.0),
        group="mechanics",
    )
    strip_bc = param.Selector(
        default="free",
        objects=["free", "fixed"],
        doc="Strip ends: one free end (shortens) or both fixed",
        metadata={"group": "mechanics"},
    )

    mode = param.Selector(
        default="hybrid",
        objects=["hybrid", "continuum"],
        doc="Agents, or their homogenized density as a sink",
        metadata={"group": "model"},
    )
    scheme = param.Selector(
        default="adi",
        objects=["adi", "explicit"],
        doc="Field time stepping: ADI (stable for any step) or explicit Euler",
        metadata={"group": "simulation"},
    )
    dt = quantity(
        1.0,
        unit="min",
        doc="Time step of the coupled scheme",
        positive=True,
        softbounds=(0.01, 10.0),
        log=True,
        group="simulation",
    )
    seed = param.Integer(
        0,
        bounds=(0, None),
        softbounds=(0, 1000),
        doc="Random seed (cell placement and motion)",
        metadata={"unit": "-", "group": "simulation"},
    )
    t_end = quantity(
        300.0,
        unit="min",
        doc="End of the simulated time window",
        positive=True,
        softbounds=(1.0, 5000.0),
        group="simulation",
    )
    n_points = param.Integer(
        11,
        bounds=(2, 10000),
        softbounds=(2, 201),
        doc="Number of snapshots",
        metadata={"unit": "-", "group": "simulation"},
    )

    # -- derived quantities ------------------------------------------------------------------
    @property
    def Vmax(self) -> float:
        """Maximal uptake per cell, ``kint * receptors`` (molecules/min)."""
        return self.kint * self.receptors

    @property
    def Km(self) -> float:
        """Half-saturation concentration, ``(koff + kint) / kon`` (molecules/µm²)."""
        return (self.koff + self.kint) / self.kon

    @property
    def h(self) -> float:
        """Grid spacing (µm)."""
        return self.width / self.nx

    @property
    def ny(self) -> int:
        """Grid cells along y (square cells)."""
        return round(self.height / self.h)

    @property
    def penetration_length(self) -> float:
        """sqrt(D / k_eff) with the linear-regime sink k_eff = decay + density Vmax / Km (µm)."""
        density = self.n_cells / (self.width * self.height)
        return math.sqrt(self.D / (self.decay + density * self.Vmax / self.Km))

    @property
    def cell_spacing(self) -> float:
        """Mean distance between neighbouring cells, ``1 / sqrt(density)`` (µm)."""
        return math.sqrt(self.width * self.height / max(self.n_cells, 1))

    def network(self):
        raise ModelError("HybridTissue is a field-and-agents model, not a reaction network")

    def units(self) -> dict[str, str]:
        return {"t": "min", "field": "molecules/µm²", "uptake": "molecules/min"}

    # -- simulation --------------------------------------------------------------------------
    @property
    def explicit_dt_limit(self) -> float:
        """Largest stable step of the explicit scheme, ``h^2 / (4 D)`` (min)."""
        return self.h**2 / (4.0 * self.D)

    def _validate(self) -> None:
        if self.nx < 2 or self.ny < 2:
            raise ModelError(
                f"the grid needs at least 2 x 2 cells, got {self.nx} x {self.ny}: with square cells of "
                f"{self.h:g} µm the height {self.height:g} µm holds fewer than two; raise nx or the height"
            )
        if self.nx * self.ny > MAX_GRID_CELLS:
            raise ModelError(
                f"the grid has {self.nx} x {self.ny} = {self.nx * self.ny:,} cells; at most {MAX_GRID_CELLS:,} "
                f"(height / width = {self.height / self.width:.3g} sets ny; lower nx or the height)"
            )
        if self.scheme == "explicit" and self.dt > self.explicit_dt_limit * (1 + 1e-12):
            raise ModelError(
                f"dt = {self.dt:g} min exceeds the explicit scheme's stability limit h^2 / (4 D) = "
                f"{self.explicit_dt_limit:.4g} min; lower dt or use scheme='adi'"
            )
        if not 0 <= self.vessel_x <= self.width:
            raise ModelError(f"vessel_x = {self.vessel_x:g} lies outside the domain [0, {self.width:g}]")
        if self.n_cells > self.max_cells:
            raise ModelError(f"n_cells = {self.n_cells} exceeds max_cells = {self.max_cells}")

    def _field_setup(self):
        nx, ny, h = self.nx, self.ny, self.h
        diff = np.full((nx, ny), self.D)
        bc = np.array([_BC.index(s) for s in (self.left, self.right, self.bottom, self.top)], dtype=np.int64)
        bc_val = np.full(4, self.boundary_value)
        source = np.zeros((nx, ny))
        if self.vessel_rate > 0:
            column = min(int(self.vessel_x / h), nx - 1)
            source[column, :] = self.vessel_rate / (self.height * h)  # amount per area per time
        return diff, bc, bc_val, source

    def initial_agents(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Cell positions uniform over the domain."""
        return rng.uniform(0.0, self.width, self.n_cells), rng.uniform(0.0, self.height, self.n_cells)

    def simulate(
        self,
        t_end: float | None = None,
        n_points: int | None = None,
        *,
        t=None,
        initial_field: np.ndarray | None = None,
        agents: tuple[np.ndarray, np.ndarray] | None = None,
        **_: object,
    ) -> TissueResult:
        """Run the coupled model; snapshots at ``n_points`` times from 0 to ``t_end``.

        Parameters
        ----------
        t_end, n_points, t : the snapshot times (default: the model's window)
        initial_field : float64[nx, ny], optional
            Initial concentration (default: zero).
        agents : (x, y) arrays, optional
            Initial cell positions (default: ``n_cells`` uniform at random).

        Raises
        ------
        ModelError
            Grid too small, explicit step over its stability limit, agents or sources outside
            the domain, a malformed initial field, too many cells.
        """
        self._validate()
        t_end = self.t_end if t_end is None else float(t_end)
        n_points = self.n_points if n_points is None else int(n_points)
        snapshot_times = np.linspace(0.0, t_end, n_points) if t is None else np.asarray(t, dtype=float)
        if snapshot_times.ndim != 1 or np.any(np.diff(snapshot_times) < 0) or snapshot_times[0] < 0:
            raise ModelError("snapshot times must be sorted and non-negative")
        if initial_field is not None:
            initial_field = np.array(initial_field, dtype=float)
            if initial_field.shape != (self.nx, self.ny) or not np.all(np.isfinite(initial_field)):
                raise ModelError(f"initial_field must be a finite array of shape ({self.nx}, {self.ny})")
            if np.any(initial_field < 0):
                raise ModelError("initial_field must be non-negative")
        if agents is not None:
            x, y = (np.asarray(a, dtype=float) for a in agents)
            if x.shape != y.shape or x.ndim != 1:
                raise ModelError("agents must be two 1-D arrays of equal length (x, y)")
            outside = (x < 0) | (x > self.width) | (y < 0) | (y > self.height) | ~np.isfinite(x) | ~np.isfinite(y)
            if np.any(outside):
                k = int(np.flatnonzero(outside)[0])
                raise ModelError(
                    f"agent {k} at ({x[k]:g}, {y[k]:g}) lies outside the domain "
                    f"[0, {self.width:g}] x [0, {self.height:g}]"
                )
            if x.size > self.max_cells:
                raise ModelError(f"{x.size} agents exceed max_cells = {self.max_cells}")
            agents = (x, y)
        n_steps = snapshot_times[-1] / self.dt if snapshot_times.size else 0.0
        if n_steps > MAX_STEPS:
            raise ModelError(
                f"t_end / dt = {n_steps:.3g} time steps; at most {MAX_STEPS:,} "
                "(a larger dt with scheme='adi', or a shorter t_end)"
            )
        runner = _Runner(self, initial_field, agents)
        return runner.run(snapshot_times)


class _Runner:
    """State of one simulation (field, agents, ledger) and its time loop."""

    def __init__(self, model: HybridTissue, initial_field=None, agents=None):
        # plain attributes: a Parameter read costs microseconds, and the loop reads dozens per step
        self.m = SimpleNamespace(
            **model.values(), Km=model.Km, Vmax=model.Vmax, ny=model.ny, initial_agents=model.initial_agents
        )
        self.rng = np.random.default_rng(model.seed)
        nx, ny, h = model.nx, model.ny, model.h
        self.h = h
        self.diff, self.bc, self.bc_val, self.source = model._field_setup()
        self.c = np.zeros((nx, ny)) if initial_field is None else initial_field.copy()
        self.cx = np.empty((4, nx, ny))
        self.cy = np.empty((4, nx, ny))
        inv_h2 = 1.0 / (h * h)
        kern.line_coefficients(self.diff, model.decay, inv_h2, self.bc, self.bc_val, 0, *self.cx)
        kern.line_coefficients(self.diff, model.decay, inv_h2, self.bc, self.bc_val, 1, *self.cy)
        self.work_a = np.empty((nx, ny))
        self.work_b = np.empty((nx, ny))
        self.demand = np.empty((nx, ny))
        self.ledger = np.zeros(kern.N_LEDGER)
        capacity = model.max_cells if model.mode == "hybrid" else 0
        self.xs = np.empty(capacity)
        self.ys = np.empty(capacity)
        self.signal = np.zeros(capacity)
        self.taken = np.zeros(capacity)
        self.value = np.empty(capacity)
        self.gx = np.empty(capacity)
        self.gy = np.empty(capacity)
        if model.mode == "hybrid":
            x0, y0 = model.initial_agents(self.rng) if agents is None else agents
            self.n = x0.size
            self.xs[: self.n] = x0
            self.ys[: self.n] = y0
            self.density = None
        else:
            self.n = 0
            self.density = np.full((nx, ny), model.n_cells / (model.width * model.height))

    def step(self) -> None:
        m = self.m
        dt = m.dt
        n = self.n
        if m.mode == "hybrid" and n:
            kern.sample_field(self.c, self.h, self.xs, self.ys, n, self.value, self.gx, self.gy)
            kern.agent_uptake(
                self.c, self.h, self.xs, self.ys, n, m.Vmax, m.Km, dt, self.demand, self.taken, self.ledger
            )
            # internal signal: exact for constant uptake over the step
            decay = math.exp(-m.gamma_signal * dt)
            relative = self.taken[:n] / (m.Vmax * dt) if m.Vmax > 0 else np.zeros(n)
            self.signal[:n] = self.signal[:n] * decay + relative * (1.0 - decay)
            noise = self.rng.standard_normal((2, n))
            kern.move_agents(
                self.xs, self.ys, n, self.gx, self.gy, noise, math.sqrt(2.0 * m.motility * dt), m.chemotaxis * dt,
                m.width, m.height,
            )  # fmt: skip
            if m.proliferation:
                self._birth_and_death()
        elif m.mode == "continuum":
            kern.density_uptake(self.c, self.h, self.density, m.Vmax, m.Km, dt, self.ledger)
        field_step = kern.adi_step if m.scheme == "adi" else kern.explicit_step
        field_step(
            self.c, self.diff, m.decay, dt, self.h, self.bc, self.bc_val, self.source, self.cx, self.cy,
            self.work_a, self.work_b, self.ledger,
        )  # fmt: skip

    def _birth_and_death(self) -> None:
        m = self.m
        n = self.n
        u = self.rng.random((2, n))
        dies = (self.signal[:n] < m.death_threshold) & (u[0] < 1.0 - math.exp(-m.death_rate * m.dt))
        divides = (self.signal[:n] > m.division_threshold) & (u[1] < 1.0 - math.exp(-m.division_rate * m.dt)) & ~dies
        keep = ~dies
        parents = np.flatnonzero(divides)
        room = m.max_cells - int(keep.sum())
        parents = parents[: max(room, 0)]
        offsets = self.rng.normal(0.0, 0.5 * self.h, (2, parents.size))
        new_x = np.clip(self.xs[parents] + offsets[0], 0.0, m.width)
        new_y = np.clip(self.ys[parents] + offsets[1], 0.0, m.height)
        new_signal = self.signal[parents]
        kept = int(keep.sum())
        for arr in (self.xs, self.ys, self.signal, self.taken):
            arr[:kept] = arr[:n][keep]
        total = kept + parents.size
        self.xs[kept:total] = new_x
        self.ys[kept:total] = new_y
        self.signal[kept:total] = new_signal
        self.taken[kept:total] = 0.0
        self.n = total

    def _snapshot(self) -> dict[str, np.ndarray]:
        n = self.n
        return {
            "x": self.xs[:n].copy(),
            "y": self.ys[:n].copy(),
            "signal": self.signal[:n].copy(),
            "uptake": self.taken[:n] / self.m.dt,
        }

    def run(self, snapshot_times: np.ndarray) -> TissueResult:
        m = self.m
        area = self.h * self.h
        n_steps = math.ceil(snapshot_times[-1] / m.dt - 1e-9)
        series = {key: np.zeros(n_steps + 1) for key in (
            "t", "field_amount", "uptake_rate", "mean_signal", "cell_count", "supplied", "out", "decayed", "taken_up"
        )}  # fmt: skip
        fields = []
        agents = []
        k = 0
        t = 0.0
        for step in range(n_steps + 1):
            if step % 32 == 0:
                control.check("The tissue simulation")  # a time budget or a cancel
            if step > 0:
                before = self.ledger[kern.TAKEN_UP]
                self.step()
                t = step * m.dt
                series["uptake_rate"][step] = (self.ledger[kern.TAKEN_UP] - before) / m.dt
            series["t"][step] = t
            series["field_amount"][step] = self.c.sum() * area
            series["mean_signal"][step] = self.signal[: self.n].mean() if self.n else 0.0
            series["cell_count"][step] = self.n if m.mode == "hybrid" else m.n_cells
            for key, slot in (
                ("supplied", kern.SUPPLIED),
                ("out", kern.OUT),
                ("decayed", kern.DECAYED),
                ("taken_up", kern.TAKEN_UP),
            ):
                series[key][step] = self.ledger[slot]
            while k < snapshot_times.size and snapshot_times[k] <= t + 1e-9 * m.dt:
                fields.append(self.c.copy())
                agents.append(self._snapshot())
                k += 1
        x = (np.arange(m.nx) + 0.5) * self.h
        y = (np.arange(m.ny) + 0.5) * self.h
        return TissueResult(snapshot_times[: len(fields)], np.array(fields), agents, x, y, series)
