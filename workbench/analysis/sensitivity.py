"""Forward sensitivities of any model or network with respect to chosen parameters.

The sensitivity equations are integrated with the states (Rodas4 on the augmented system, see
:mod:`workbench.core.ode`). What a model parameter ``theta`` does to the network — which
network parameters, initial values and dose amounts it sets — is an algebraic map, which we
differentiate by central differences of the model's own declaration (exact to ~1e-10 for these
smooth maps), so derived quantities such as ``R0 = ksyn / kdeg`` or ``KSS = (koff + kint) /
kon`` need no hand-written derivatives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core import Dose, ReactionNetwork
from ..core import kinetics as kin
from ..core.dosing import events_to_arrays
from ..core.sensitivity import integrate_with_sensitivities
from ..core.simulate import output_times
from ..errors import ModelError
from ..models import Model

__all__ = ["Sensitivities", "default_parameters", "sensitivities"]


@dataclass(frozen=True)
class Sensitivities:
    """States and their sensitivities at the output times.

    Attributes
    ----------
    t : float64[n_times]
    species : tuple of str
    values : float64[n_times, n_species]
    sensitivities : float64[n_times, n_species, n_theta]
        ``dy/dtheta``, or ``dy/dlog(theta) = theta dy/dtheta`` when ``log``.
    parameters : tuple of str
    theta : float64[n_theta]
        The parameter values.
    log : bool
    info : dict
    """

    t: np.ndarray
    species: tuple[str, ...]
    values: np.ndarray
    sensitivities: np.ndarray
    parameters: tuple[str, ...]
    theta: np.ndarray
    log: bool
    info: dict = field(default_factory=dict)

    def __getitem__(self, species: str) -> np.ndarray:
        """Sensitivities of one species, shape (n_times, n_theta)."""
        return self.sensitivities[:, self.species.index(species), :]


def default_parameters(model: Model | ReactionNetwork) -> list[str]:
    """The parameters sensitivities are taken with respect to by default.

    For a model: its numeric parameters that act on the network (rate constants, volumes,
    doses; not those that only shape an observable, such as an Emax effect), are non-zero
    (so their logarithm exists), and do not move dosing times. For a network: its parameters.
    """
    if isinstance(model, ReactionNetwork):
        return list(model.parameter_names)
    excluded = {"interval", "infusion_duration", "t_end"}
    candidates = [n for n in model.model_parameters() if n not in excluded and float(getattr(model, n)) != 0.0]
    net, _, _, _, g, s0, ev_dval = _model_map(model, candidates)
    arrays = net.arrays
    used = np.zeros(g.shape[0], dtype=bool)  # network parameters some reaction or volume reads
    built_in = arrays.kind != kin.EXPRESSION  # an expression law's par[j, 0] is its program
    dep_var = getattr(arrays, "ex_dep_var", np.empty(0, dtype=np.int64))  # only expression networks have it
    read_by_expressions = -dep_var[dep_var < 0] - 1
    for indices in (arrays.par[built_in].ravel(), arrays.vol, arrays.sp_vol, read_by_expressions):
        used[indices[indices >= 0]] = True
    acts = np.any(g[used] != 0, axis=0) | np.any(s0 != 0, axis=0) | np.any(ev_dval != 0, axis=0)
    return [name for name, used in zip(candidates, acts, strict=True) if used]


def _network_values(model: Model, values: Mapping[str, float]):
    """Parameter vector, initial vector and events of the model with some values changed."""
    changed = model.copy(**values)
    net = changed.network()
    events = events_to_arrays(changed.doses(), net.species_index)
    return net, net.parameter_vector(), net.initial_vector(), events


def _model_map(model: Model, names: Sequence[str]):
    """d(network parameters, initial values, event values)/d(theta) by central differences."""
    memo_key = ("sensitivity_map", tuple(names))
    if memo_key in model._memo:
        return model._memo[memo_key]
    net, p0, y0, events = _network_values(model, {})
    n_theta = len(names)
    g = np.zeros((p0.size, n_theta))
    s0 = np.zeros((y0.size, n_theta))
    ev_dval = np.zeros((events[0].size, n_theta))
    declared = model.param.objects("existing")
    for k, name in enumerate(names):
        value = float(getattr(model, name))
        h = 1e-6 * max(abs(value), 1e-6)
        lower, upper = declared[name].bounds or (None, None)
        closed_lower, closed_upper = declared[name].inclusive_bounds
        plus = value + h if upper is None or value + h < upper or (closed_upper and value + h == upper) else value
        minus = value - h if lower is None or value - h > lower or (closed_lower and value - h == lower) else value
        if plus == minus:
            raise ModelError(f"cannot differentiate with respect to {name!r} at {value:g} (no room within its bounds)")
        net_p, p_p, y_p, ev_p = _network_values(model, {name: plus})
        net_m, p_m, y_m, ev_m = _network_values(model, {name: minus})
        if (
            net_p.species != net.species
            or net_m.species != net.species
            or net_p.parameter_names != net.parameter_names
            or net_m.parameter_names != net.parameter_names
            or p_p.size != p0.size
            or p_m.size != p0.size
            or ev_p[0].shape != events[0].shape
            or ev_m[0].shape != events[0].shape
        ):
            raise ModelError(f"parameter {name!r} changes the model's structure; it has no sensitivity")
        if not (np.array_equal(ev_p[0], events[0]) and np.array_equal(ev_m[0], events[0])):
            raise ModelError(f"parameter {name!r} moves dosing times; sensitivities to event times are not supported")
        width = plus - minus
        g[:, k] = (p_p - p_m) / width
        s0[:, k] = (y_p - y_m) / width
        ev_dval[:, k] = (ev_p[3] - ev_m[3]) / width
    result = (net, p0, y0, events, g, s0, ev_dval)
    model._memo[memo_key] = result
    return result


def _network_map(net: ReactionNetwork, names: Sequence[str], doses: Sequence[Dose]):
    p0 = net.parameter_vector()
    y0 = net.initial_vector()
    events = events_to_arrays(doses, net.species_index)
    n_theta = len(names)
    g = np.zeros((p0.size, n_theta))
    s0 = np.zeros((y0.size, n_theta))
    for k, name in enumerate(names):
        if name in net.parameter_names:
            g[net.parameter_names.index(name), k] = 1.0
        elif name in net.species:
            s0[net.species.index(name), k] = 1.0
        else:
            raise ModelError(
                f"unknown parameter {name!r}: choose among the parameters {list(net.parameter_names)} "
                f"or the species (initial values) {list(net.species)}"
            )
    return net, p0, y0, events, g, s0, np.zeros((events[0].size, n_theta))


def _theta_values(model, net, names):
    if isinstance(model, Model):
        return np.array([float(getattr(model, name)) for name in names])
    values = []
    for name in names:
        values.append(net.parameters[name] if name in net.parameter_names else net.initial[name])
    return np.array(values)


def sensitivities(
    model: Model | ReactionNetwork,
    parameters: Sequence[str] | None = None,
    *,
    t: Sequence[float] | None = None,
    t_end: float | None = None,
    n_points: int | None = None,
    log: bool = True,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    full_error_control: bool = False,
    max_steps: int = 100_000,
    doses: Sequence[Dose] = (),
) -> Sensitivities:
    """Forward sensitivities ``dy/dtheta`` (or ``dy/dlog theta``) along a simulation.

    Parameters
    ----------
    model : Model or ReactionNetwork
    parameters : sequence of str, optional
        What to differentiate with respect to: model parameters (including doses), or for a
        network its parameters and species names (initial values). Default:
        :func:`default_parameters`.
    t, t_end, n_points : output times, as in ``simulate`` (default: the model's window).
    log : bool
        Sensitivities to log-parameters (relative changes), the default.
    rtol, atol : float
        Tolerances of the states.
    full_error_control : bool
        Also control the sensitivities' local error (more steps, more accurate sensitivities);
        by default they take the states' steps.
    max_steps : int
    doses : sequence of Dose
        Doses, for a network (a model brings its own).

    Raises
    ------
    ModelError
        Unknown parameter, a parameter that changes structure or dosing times, or a
        log-sensitivity with respect to a parameter whose value is 0.
    """
    names = list(default_parameters(model) if parameters is None else parameters)
    if not names:
        raise ModelError("give at least one parameter")
    if len(set(names)) != len(names):
        raise ModelError("parameters must not repeat")
    if isinstance(model, Model):
        unknown = [n for n in names if n not in model.param or n == "name"]
        if unknown:
            raise ModelError(
                f"unknown parameter(s) {unknown} of {type(model).__name__}; it has {model.model_parameters()}"
            )
        net, p0, y0, events, g, s0, ev_dval = _model_map(model, names)
        default_end, default_points = model.t_end, model.n_points
    elif isinstance(model, ReactionNetwork):
        net, p0, y0, events, g, s0, ev_dval = _network_map(model, names, doses)
        default_end, default_points = None, 101
    else:
        raise ModelError(f"expected a workbench model or ReactionNetwork, got {type(model).__name__}")
    times = output_times(
        default_end if t_end is None and t is None else t_end, default_points if n_points is None else n_points, t, 0.0
    )
    theta = _theta_values(model, net, names)
    if log:
        if np.any(theta == 0):
            zero = [n for n, v in zip(names, theta, strict=True) if v == 0]
            raise ModelError(f"log-sensitivities need non-zero values; {zero} are 0 (use log=False)")
        g = g * theta
        s0 = s0 * theta
        ev_dval = ev_dval * theta
    out, out_s, info = integrate_with_sensitivities(
        net.arrays, p0, y0, s0, g, times, events, ev_dval,
        rtol=rtol, atol=atol, max_steps=max_steps, sens_error=full_error_control,
    )  # fmt: skip
    return Sensitivities(times, net.species, out, out_s, tuple(names), theta, log, info)
