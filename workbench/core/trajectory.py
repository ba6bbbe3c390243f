"""The result of a deterministic simulation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import numpy as np

from .files import frame_csv

__all__ = ["Trajectory"]


class Trajectory:
    """Time courses of species (and derived observables) at the output times.

    Parameters
    ----------
    t : array_like, shape (n_times,)
    species : sequence of str
        Names of the state columns.
    values : array_like, shape (n_times, n_species)
    observables : mapping of str to array, optional
        Derived quantities at the same times (a PD effect, an occupancy, ...).
    units : mapping of str to str, optional
        Unit of each column, and of time under the key ``"t"``.
    info : mapping, optional
        Solver statistics.

    Examples
    --------
    >>> traj["X"]            # a 1-D array  # doctest: +SKIP
    >>> traj.to_dataframe()  # one column per species and observable  # doctest: +SKIP
    """

    def __init__(
        self,
        t: np.ndarray,
        species: Sequence[str],
        values: np.ndarray,
        observables: Mapping[str, np.ndarray] | None = None,
        units: Mapping[str, str] | None = None,
        info: Mapping | None = None,
    ):
        self.t = np.asarray(t, dtype=float)
        self.species = tuple(species)
        self.values = np.asarray(values, dtype=float)
        if self.values.shape != (self.t.size, len(self.species)):
            raise ValueError("values must have shape (len(t), len(species))")
        self.observables = {k: np.asarray(v, dtype=float) for k, v in (observables or {}).items()}
        self.units = dict(units or {})
        self.info = dict(info or {})
        self._index = {name: i for i, name in enumerate(self.species)}

    @property
    def names(self) -> tuple[str, ...]:
        """All column names: species, then observables."""
        return self.species + tuple(self.observables)

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self._index:
            return self.values[:, self._index[name]]
        if name in self.observables:
            return self.observables[name]
        raise KeyError(f"{name!r} is not in this trajectory; it has {list(self.names)}")

    def __contains__(self, name: object) -> bool:
        return name in self._index or name in self.observables

    def __len__(self) -> int:
        return self.t.size

    def with_observables(self, **observables: np.ndarray) -> Trajectory:
        """A copy with more derived columns."""
        return Trajectory(self.t, self.species, self.values, {**self.observables, **observables}, self.units, self.info)

    def to_dataframe(self):
        """A :class:`pandas.DataFrame` indexed by time, one column per species and observable."""
        # pandas costs ~0.3 s to import, so it is loaded when a table is asked for, not at import.
        import pandas as pd  # noqa: PLC0415

        data = {name: self[name] for name in self.names}
        frame = pd.DataFrame(data, index=pd.Index(self.t, name="t"))
        frame.attrs["units"] = dict(self.units)
        return frame

    def to_csv(self, path=None):
        """CSV of :meth:`to_dataframe`: column ``t`` then each species and observable.

        Written atomically to ``path`` (returns the path), or returned as text without one;
        ``pandas.read_csv(path, index_col="t")`` reads it back
        exactly.
        """
        return frame_csv(self.to_dataframe(), path)

    def _label(self, name: str) -> str:
        unit = self.units.get(name)
        return f"{name} [{unit}]" if unit else name

    def __repr__(self) -> str:
        if self.t.size == 0:
            return "Trajectory(empty)"
        span = f"t = {self.t[0]:g} .. {self.t[-1]:g}"
        if "t" in self.units:
            span += f" {self.units['t']}"
        lines = [f"Trajectory: {self.t.size} time points, {span}"]
        width = max(len(self._label(n)) for n in self.names)
        lines.append(f"  {'':{width}}  {'start':>11}  {'end':>11}  {'min':>11}  {'max':>11}")
        for name in self.names:
            col = self[name]
            lines.append(
                f"  {self._label(name):{width}}  {col[0]:11.4g}  {col[-1]:11.4g}  {col.min():11.4g}  {col.max():11.4g}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if self.t.size == 0:
            return "<p>Trajectory (empty)</p>"
        unit = f" {escape(self.units['t'])}" if "t" in self.units else ""
        rows = "".join(
            f"<tr><td>{escape(self._label(n))}</td>"
            + "".join(f"<td>{v:.4g}</td>" for v in (self[n][0], self[n][-1], self[n].min(), self[n].max()))
            + "</tr>"
            for n in self.names
        )
        return (
            f"<p><b>Trajectory</b>: {self.t.size} time points, t = {self.t[0]:g} .. {self.t[-1]:g}{unit}</p>"
            "<table><thead><tr><th></th><th>start</th><th>end</th><th>min</th><th>max</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
