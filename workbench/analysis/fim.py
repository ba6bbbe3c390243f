"""Fisher information and practical identifiability.

For observables ``y_o(t)`` sampled at times ``t_i`` with independent Gaussian errors
``sigma_o(t_i)`` (additive: fixed; proportional: ``rel * |y_o|``), the Fisher information of
parameters theta is::

    FIM = sum_i sum_o  (dy_o(t_i)/dtheta)^T (dy_o(t_i)/dtheta) / sigma_o(t_i)^2

(the error model's variance is taken as known at the nominal values). In log-parameters
(default) the Cramér-Rao bound ``sqrt(diag(FIM^-1))`` is a relative standard error, and
eigenvectors with tiny eigenvalues are the sloppy combinations of parameters the data cannot
pin down: ``log kon + log koff`` (only KD = koff/kon identified), ``log s + log V`` (only
s/V identified).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..core import Dose, ReactionNetwork
from ..errors import ModelError
from ..models import Model
from .sensitivity import sensitivities

__all__ = ["FIMResult", "fim"]

#: eigenvalues below this fraction of the largest count as zero (data carry no information)
SINGULAR_RATIO = 1e-12


@dataclass(frozen=True)
class FIMResult:
    """A Fisher information matrix and what it says about identifiability.

    Attributes
    ----------
    matrix : float64[n, n]
    parameters : tuple of str
        Parameter names; in log space each direction is ``log <name>``.
    eigenvalues : float64[n]
        Ascending.
    eigenvectors : float64[n, n]
        Columns, matching ``eigenvalues``.
    log : bool
    """

    matrix: np.ndarray
    parameters: tuple[str, ...]
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    log: bool

    @property
    def condition_number(self) -> float:
        """Largest over smallest eigenvalue (inf when the FIM is singular)."""
        lo, hi = self.eigenvalues[0], self.eigenvalues[-1]
        if hi <= 0 or lo <= SINGULAR_RATIO * hi:
            return float("inf")
        return float(hi / lo)

    @property
    def singular(self) -> bool:
        """Some parameter combination has (numerically) no information."""
        return bool(self.eigenvalues[0] <= SINGULAR_RATIO * max(self.eigenvalues[-1], 0.0))

    def _label(self, name: str) -> str:
        return f"log {name}" if self.log else name

    def combination(self, vector: np.ndarray, threshold: float = 0.05) -> str:
        """A direction in parameter space as readable text, e.g. ``"log kon + log koff"``."""
        v = np.asarray(vector, dtype=float)
        v = v / v[np.argmax(np.abs(v))]
        terms = []
        for coef, name in zip(v, self.parameters, strict=True):
            if abs(coef) < threshold:
                continue
            sign = "-" if coef < 0 else "+"
            size = abs(coef)
            text = self._label(name) if abs(size - 1) < 0.02 else f"{size:.2g} {self._label(name)}"
            terms.append((sign, text))
        if not terms:
            return "0"
        first_sign, first = terms[0]
        out = ("-" if first_sign == "-" else "") + first
        for sign, text in terms[1:]:
            out += f" {sign} {text}"
        return out

    def sloppy_directions(self, ratio: float = 1e-6) -> list[tuple[float, str]]:
        """``(eigenvalue, combination)`` of directions with eigenvalue below ``ratio`` x largest."""
        top = max(self.eigenvalues[-1], 0.0)
        return [
            (float(value), self.combination(self.eigenvectors[:, i]))
            for i, value in enumerate(self.eigenvalues)
            if value <= ratio * top
        ]

    def stiff_directions(self, ratio: float = 1e-6) -> list[tuple[float, str]]:
        """``(eigenvalue, combination)`` of the well-determined directions, largest first.

        When other directions are sloppy these are the identifiable combinations.
        """
        top = max(self.eigenvalues[-1], 0.0)
        return [
            (float(value), self.combination(self.eigenvectors[:, i]))
            for i, value in enumerate(self.eigenvalues)
            if value > ratio * top
        ][::-1]

    def standard_errors(self) -> np.ndarray:
        """Cramér-Rao lower bounds on the standard errors (of log-parameters when ``log``).

        Raises
        ------
        ModelError
            If the FIM is singular: the message names the unidentifiable combinations.
        """
        if self.singular:
            names = "; ".join(text for _, text in self.sloppy_directions(SINGULAR_RATIO)) or self.combination(
                self.eigenvectors[:, 0]
            )
            raise ModelError(
                f"the FIM is singular: the data carry no information on {names}. Fix or drop a parameter, "
                "or add observables, sample times or experiments"
            )
        covariance = np.linalg.inv(self.matrix)
        return np.sqrt(np.diag(covariance))

    def __repr__(self) -> str:
        lines = [f"FIMResult: {len(self.parameters)} parameters, condition number {self.condition_number:.4g}"]
        sloppy = self.sloppy_directions(1e-6)
        for value, text in sloppy:
            lines.append(f"  sloppy: {text}  (eigenvalue {value:.3g})")
        if sloppy:
            for value, text in self.stiff_directions(1e-6):
                lines.append(f"  identified: {text}  (eigenvalue {value:.3g})")
        return "\n".join(lines)


def _observation_matrix(observables, species: Sequence[str]) -> tuple[list[str], np.ndarray]:
    names, rows = [], []
    if isinstance(observables, Mapping):
        items = list(observables.items())
    else:
        items = [(name, {name: 1.0}) for name in observables]
    for name, combination in items:
        row = np.zeros(len(species))
        for sp, coef in dict(combination).items():
            if sp not in species:
                raise ModelError(f"observable {name!r}: unknown species {sp!r}; species are {list(species)}")
            row[list(species).index(sp)] = float(coef)
        names.append(name)
        rows.append(row)
    if not rows:
        raise ModelError("give at least one observable")
    return names, np.array(rows)


def fim(
    model: Model | ReactionNetwork,
    observables: Sequence[str] | Mapping[str, Mapping[str, float]],
    times: Sequence[float],
    *,
    parameters: Sequence[str] | None = None,
    noise: str | Mapping[str, str] = "proportional",
    sigma: float | Mapping[str, float] = 0.1,
    scales: Mapping[str, str] | None = None,
    experiments: Sequence[Mapping[str, float]] | None = None,
    log: bool = True,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    full_error_control: bool = False,
    doses: Sequence[Dose] = (),
) -> FIMResult:
    """Fisher information matrix of parameters for observables sampled at ``times``.

    Parameters
    ----------
    model : Model or ReactionNetwork
    observables : sequence of species names, or mapping name -> {species: coefficient}
        What is measured (linear combinations of species allowed, e.g. total drug).
    times : sequence of float
        Sample times (sorted).
    parameters : sequence of str, optional
        Parameters to estimate (default: all that sensitivities support).
    noise : "additive" or "proportional", or a mapping per observable
    sigma : float or mapping per observable
        Standard deviation (additive) or relative error (proportional).
    scales : mapping observable -> name, optional
        Observables measured up to an unknown scale factor ``y = s * observable`` (nominal
        s = 1); each adds the parameter ``name`` to the estimated set.
    experiments : sequence of mappings, optional
        Several experiments (parameter settings, e.g. ligand concentrations); their FIMs add.
    log : bool
        Log-parameters (relative precision), the default.
    rtol, atol, full_error_control : solver settings of :func:`sensitivities`.
    doses : sequence of Dose
        Doses, for a network (a model brings its own).

    Raises
    ------
    ModelError
        Unknown parameters, species or observables; non-positive noise; a proportional-noise
        observable that is zero at a sample time.
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) < 0) or not np.all(np.isfinite(times)):
        raise ModelError("times must be a non-empty sorted sequence of finite sample times")
    settings = list(experiments) if experiments else [{}]
    scales = dict(scales or {})
    total = None
    names_out: tuple[str, ...] = ()
    for setting in settings:
        target = _apply(model, setting)
        sens = sensitivities(
            target,
            parameters,
            t=times,
            log=log,
            rtol=rtol,
            atol=atol,
            full_error_control=full_error_control,
            doses=doses if isinstance(target, ReactionNetwork) else (),
        )
        obs_names, c_matrix = _observation_matrix(observables, sens.species)
        for name in scales:
            if name not in obs_names:
                raise ModelError(f"scale given for unknown observable {name!r}; observables are {obs_names}")
        y = sens.values @ c_matrix.T  # (n_t, n_obs)
        dy = np.einsum("os,tsk->tok", c_matrix, sens.sensitivities)  # (n_t, n_obs, n_theta)
        scale_names = list(dict.fromkeys(scales.values()))
        if scale_names:
            extra = np.zeros((times.size, len(obs_names), len(scale_names)))
            for o, name in enumerate(obs_names):
                if name in scales:
                    # y = s * obs at s = 1: dy/ds = obs, and dy/dlog s = s * obs = obs
                    extra[:, o, scale_names.index(scales[name])] = y[:, o]
            dy = np.concatenate([dy, extra], axis=2)
        weights = np.empty_like(y)
        for o, name in enumerate(obs_names):
            kind = noise[name] if isinstance(noise, Mapping) else noise
            level = float(sigma[name] if isinstance(sigma, Mapping) else sigma)
            if not level > 0:
                raise ModelError(f"sigma of {name!r} must be positive, got {level}")
            if kind == "additive":
                weights[:, o] = 1.0 / level**2
            elif kind == "proportional":
                if np.any(np.abs(y[:, o]) <= 0):
                    k = int(np.flatnonzero(np.abs(y[:, o]) <= 0)[0])
                    raise ModelError(
                        f"observable {name!r} is 0 at t = {times[k]:g}: proportional noise needs positive values "
                        "(drop that sample time or use additive noise)"
                    )
                weights[:, o] = 1.0 / (level * y[:, o]) ** 2
            else:
                raise ModelError(f"noise must be 'additive' or 'proportional', got {kind!r}")
        matrix = np.einsum("tok,to,toj->kj", dy, weights, dy)
        total = matrix if total is None else total + matrix
        names_out = sens.parameters + tuple(scale_names)
    total = 0.5 * (total + total.T)
    values, vectors = np.linalg.eigh(total)
    return FIMResult(total, names_out, values, vectors, log)


def _apply(model, setting: Mapping[str, float]):
    if not setting:
        return model
    if isinstance(model, Model):
        return model.copy(**setting)
    overrides_p = {k: v for k, v in setting.items() if k in model.parameter_names}
    overrides_y = {k: v for k, v in setting.items() if k in model.species}
    unknown = set(setting) - set(overrides_p) - set(overrides_y)
    if unknown:
        raise ModelError(f"experiment sets unknown names {sorted(unknown)}")
    params = {**model.parameters, **overrides_p}
    return ReactionNetwork(
        species={s: _species_with(model, s, overrides_y.get(s)) for s in model.species},
        parameters=params,
        reactions=model.reactions,
        compartments=model.compartments,
        units=model.units,
        name=model.name,
    )


def _species_with(net: ReactionNetwork, name: str, value: float | None):
    spec = net._species[name]
    if value is None:
        return spec
    return type(spec)(value, spec.compartment, spec.constant, spec.unit)
