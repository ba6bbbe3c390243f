"""Rate laws, right-hand side and analytic Jacobian of a reaction network, as numba kernels.

A network reaches the kernels only as :class:`NetworkArrays` (or, with expression rate laws,
:class:`ExpressionNetworkArrays`): plain integer and float arrays. Because every network has
one of these two types, a new network or a new parameter value reuses the compiled code;
nothing is compiled per model.

Units and conventions
---------------------
The state ``y`` holds species concentrations (amount / volume of the species' compartment).
Each reaction ``j`` has a rate ``v_j`` in amount per time, so that::

    dy_i/dt = (1 / V_i) * sum_j S_ij * v_j + u_i / V_i

with ``S`` the net stoichiometry, ``V_i`` the volume of species ``i``'s compartment and ``u``
a zero-order input (amount per time, from infusions). Rate laws are evaluated on
concentrations; all kinds except ``FLOW`` give a rate per volume that is multiplied by the
reaction's compartment volume. Volumes are entries of the parameter vector ``p`` (index -1
means a unit volume), so they can vary like any other parameter.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.extending import overload

from .expression import run_program

__all__ = [
    "EXPRESSION",
    "FLOW",
    "HILL_ACTIVATION",
    "HILL_REPRESSION",
    "MASS_ACTION",
    "MICHAELIS_MENTEN",
    "QE_COMPLEX",
    "QE_FREE",
    "ExpressionNetworkArrays",
    "NetworkArrays",
    "network_jacobian",
    "network_rhs",
    "reaction_rates",
]

# Rate-law kinds. ``par[j]`` holds up to three parameter indices, ``mod[j]`` up to two
# species indices; -1 marks an unused slot.
MASS_ACTION = 0  # k * prod_r y_r**order_r                         par: k
MICHAELIS_MENTEN = 1  # vmax * s / (km + s)                         par: vmax, km; mod: s
HILL_ACTIVATION = 2  # vmax * x**n / (K**n + x**n)                  par: vmax, K, n; mod: x
HILL_REPRESSION = 3  # vmax * K**n / (K**n + x**n)                  par: vmax, K, n; mod: x
FLOW = 4  # q * y_src / partition, amount per time (no volume)      par: q, partition; mod: src
QE_COMPLEX = 5  # k * c(a, b, K): quasi-equilibrium complex         par: k, K; mod: a, b
QE_FREE = 6  # k * (a - c(a, b, K)): free part of a at equilibrium  par: k, K; mod: a, b
# Any expression, amount per time (no volume): bytecode program par[j, 0] (see .expression);
# its derivatives are the programs listed for reaction j in ex_dep_*.
EXPRESSION = 7

N_KINDS = 8


class NetworkArrays(NamedTuple):
    """A reaction network of built-in rate laws compiled to arrays for the kernels.

    Attributes
    ----------
    kind : int64[n_reactions]
        Rate-law kind of each reaction (module constants).
    par : int64[n_reactions, 3]
        Parameter indices used by each rate law, -1 where unused.
    mod : int64[n_reactions, 2]
        Species indices read by non-mass-action rate laws, -1 where unused.
    vol : int64[n_reactions]
        Parameter index of the volume of each reaction's compartment, -1 for a unit volume.
    reac_ptr, reac_sp, reac_ord : int64
        Reactants in compressed rows: reaction ``j`` has reactants
        ``reac_sp[reac_ptr[j]:reac_ptr[j + 1]]`` with orders ``reac_ord[...]``.
    stoi_ptr, stoi_sp : int64; stoi_val : float64
        Net stoichiometry in compressed rows, same layout.
    sp_vol : int64[n_species]
        Parameter index of each species' compartment volume, -1 for a unit volume.
    """

    kind: np.ndarray
    par: np.ndarray
    mod: np.ndarray
    vol: np.ndarray
    reac_ptr: np.ndarray
    reac_sp: np.ndarray
    reac_ord: np.ndarray
    stoi_ptr: np.ndarray
    stoi_sp: np.ndarray
    stoi_val: np.ndarray
    sp_vol: np.ndarray


# The bytecode of EXPRESSION laws. Only ExpressionNetworkArrays carries it: in a built-in
# network's tuple these eight arrays measured +15-20% on TMDD's right-hand side.
EXPRESSION_FIELDS = ("ex_ptr", "ex_op", "ex_arg", "ex_val", "ex_depth", "ex_dep_ptr", "ex_dep_var", "ex_dep_prog")

# Built from NetworkArrays' fields, so the two cannot drift apart (a NamedTuple cannot subclass
# another to add fields).
ExpressionNetworkArrays = NamedTuple(
    "ExpressionNetworkArrays", [(name, np.ndarray) for name in (*NetworkArrays._fields, *EXPRESSION_FIELDS)]
)
ExpressionNetworkArrays.__doc__ = """:class:`NetworkArrays` of a network with :data:`EXPRESSION` rate laws.

    The same fields followed by the bytecode. A distinct type, so that numba compiles the
    kernels separately for the two and the built-in networks' kernels carry no trace of the
    interpreter (a call into it, even one never taken, measured 5-10x slower right-hand sides
    for TMDD) nor its arrays.

    Attributes
    ----------
    kind, par, mod, vol, reac_ptr, reac_sp, reac_ord, stoi_ptr, stoi_sp, stoi_val, sp_vol
        As in :class:`NetworkArrays`.
    ex_ptr, ex_op, ex_arg : int64; ex_val : float64
        Bytecode of the :data:`EXPRESSION` rate laws and their derivatives
        (:func:`~workbench.core.expression.run_program`).
    ex_depth : int64[1]
        Stack depth the deepest program needs.
    ex_dep_ptr, ex_dep_var, ex_dep_prog : int64
        In compressed rows per reaction: each variable an expression law depends on (a species
        index ``i >= 0``, or parameter ``k`` as ``-(k + 1)``) and the program of the
        derivative of the rate with respect to it.
    """


@njit(cache=True, error_model="numpy", nogil=True)
def _ipow(x, n):
    """x**n for a small non-negative integer n, by multiplication (exact and fast)."""
    r = 1.0
    for _ in range(n):
        r *= x
    return r


@njit(cache=True, error_model="numpy", nogil=True)
def qe_complex(a, b, kd):
    """Complex at quasi-equilibrium of a + b <-> c with dissociation constant kd.

    Returns ``(c, delta)`` with ``c`` the root of ``c**2 - (a + b + kd) c + a b = 0`` that
    lies in [0, min(a, b)], computed as ``2ab / (s + delta)`` to avoid cancellation, and
    ``delta = s - 2c > 0``, which the derivatives need: dc/da = (b - c) / delta,
    dc/db = (a - c) / delta, dc/dkd = -c / delta.
    """
    a = max(a, 0.0)
    b = max(b, 0.0)
    s = a + b + kd
    delta = np.sqrt((a - b) * (a - b) + kd * (2.0 * (a + b) + kd))
    denom = s + delta
    if denom <= 0.0:
        return 0.0, 0.0
    return 2.0 * a * b / denom, delta


@njit(cache=True, error_model="numpy", nogil=True)
def _hill_fraction(x, k, n):
    """x**n / (k**n + x**n) and its derivative in x, for x clipped at zero."""
    if x <= 0.0:
        if n == 1.0:
            return 0.0, 1.0 / k
        return 0.0, 0.0
    xn = x**n
    kn = k**n
    den = kn + xn
    return xn / den, n * kn * xn / (x * den * den)


# The kernels below keep the per-reaction work inline in one loop. A call to a function that
# takes the network tuple costs eleven array reference counts (about 0.1 us) whenever LLVM
# does not inline it, which would dominate the cost of a small network; helpers therefore
# take scalars only.


# Inlined (at numba's IR level) into network_rhs: a call would keep the arguments' reference
# counts alive around it, which measured as twice the cost of the whole right-hand side.
# inlined: an un-inlined call in a kernel blocks numba's reference-count pruning there
@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def saturable_rate(kind, k, q1, q2, a, b):
    """Rate per volume of the non-mass-action kinds, from scalars only.

    ``k, q1, q2`` are the law's parameters (``vmax, km``; ``vmax, K, n``; ``k, kd``) and
    ``a, b`` the concentrations of the species it reads (substrate, regulator, or the two
    binding partners). Shared by the ODE and the stochastic kernels.
    """
    if kind == MICHAELIS_MENTEN:
        # Below zero (round-off undershoot) the rate continues linearly with the slope at 0,
        # so it stays smooth and pushes the substrate back up.
        return k * a / (q1 + a) if a >= 0.0 else k * a / q1
    if kind == HILL_ACTIVATION or kind == HILL_REPRESSION:  # noqa: PLR1714 (numba-friendly)
        frac, _ = _hill_fraction(a, q1, q2)
        return k * (1.0 - frac if kind == HILL_REPRESSION else frac)
    c, _ = qe_complex(a, b, q1)  # QE_COMPLEX or QE_FREE
    return k * (c if kind == QE_COMPLEX else max(a, 0.0) - c)


# for expression networks only (the built-in tuple has no ex_* fields)
@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _program_value(net, q, p, y, stack):
    """Value of program ``q`` of the network's bytecode (a rate or one of its derivatives)."""
    return run_program(net.ex_op, net.ex_arg, net.ex_val, net.ex_ptr[q], net.ex_ptr[q + 1], y, p, stack)


@njit(cache=True, error_model="numpy", nogil=True)
def expression_rates(net, p, y, v):
    """Rates of every :data:`EXPRESSION` reaction into ``v``, sharing one stack."""
    stack = np.empty(net.ex_depth[0])
    for j in range(net.kind.shape[0]):
        if net.kind[j] == EXPRESSION:
            v[j] = expression_rate(net, j, p, y, stack)


@njit(cache=True, error_model="numpy", nogil=True)
def expression_derivatives(net, p, y, jac, dfdp, want_species, want_parameters):
    """Add the :data:`EXPRESSION` reactions' terms to the Jacobian and/or to df/dp."""
    stack = np.empty(net.ex_depth[0])
    for j in range(net.kind.shape[0]):
        if net.kind[j] != EXPRESSION:
            continue
        for q in range(net.ex_dep_ptr[j], net.ex_dep_ptr[j + 1]):
            var = net.ex_dep_var[q]
            if (var >= 0 and not want_species) or (var < 0 and not want_parameters):
                continue
            d = _program_value(net, net.ex_dep_prog[q], p, y, stack)
            for m in range(net.stoi_ptr[j], net.stoi_ptr[j + 1]):
                i = net.stoi_sp[m]
                term = net.stoi_val[m] * d / (1.0 if net.sp_vol[i] < 0 else p[net.sp_vol[i]])
                if var >= 0:
                    jac[i, var] += term
                else:
                    dfdp[i, -var - 1] += term


def _has_expressions(net):
    """Compile-time test of the tuple type (for the hooks below; not called from Python)."""
    return getattr(net, "instance_class", None) is ExpressionNetworkArrays


def expression_rates_hook(net, p, y, v):
    """In kernels: :func:`expression_rates` for expression networks, nothing otherwise."""
    raise NotImplementedError("a numba hook, for compiled code only")


@overload(expression_rates_hook, inline="always")
def _expression_rates_hook(net, p, y, v):
    if _has_expressions(net):
        return lambda net, p, y, v: expression_rates(net, p, y, v)  # noqa: PLW0108 (overload needs a function)
    return lambda net, p, y, v: None


def expression_derivatives_hook(net, p, y, jac, dfdp, want_species, want_parameters):
    """In kernels: :func:`expression_derivatives` for expression networks, nothing otherwise."""
    raise NotImplementedError("a numba hook, for compiled code only")


@overload(expression_derivatives_hook, inline="always")
def _expression_derivatives_hook(net, p, y, jac, dfdp, want_species, want_parameters):
    if _has_expressions(net):
        return lambda net, p, y, jac, dfdp, want_species, want_parameters: expression_derivatives(  # noqa: PLW0108
            net, p, y, jac, dfdp, want_species, want_parameters
        )
    return lambda net, p, y, jac, dfdp, want_species, want_parameters: None


def expression_depth(net):
    """In kernels: the stack depth the network's programs need (0 for a built-in network)."""
    raise NotImplementedError("a numba hook, for compiled code only")


@overload(expression_depth, inline="always")
def _expression_depth(net):
    if _has_expressions(net):
        return lambda net: net.ex_depth[0]
    return lambda net: 0


def expression_rate(net, j, p, y, stack):
    """In kernels: rate of the :data:`EXPRESSION` reaction ``j`` (amount per time).

    ``stack`` holds at least :func:`expression_depth` floats. A built-in network has no such
    reaction, so its version is never reached and returns NaN.
    """
    raise NotImplementedError("a numba hook, for compiled code only")


@overload(expression_rate, inline="always")
def _expression_rate(net, j, p, y, stack):
    if _has_expressions(net):
        return lambda net, j, p, y, stack: _program_value(net, net.par[j, 0], p, y, stack)
    return lambda net, j, p, y, stack: np.nan


# Inlined (at numba's IR level) into network_rhs: a call would keep the arguments' reference
# counts alive around it, which measured as twice the cost of the whole right-hand side.
@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def reaction_rates(net, p, y, v):
    """Fill ``v`` with the rate of every reaction (amount per time)."""
    for j in range(net.kind.shape[0]):
        kind = net.kind[j]
        if kind == EXPRESSION:
            continue  # below, all at once
        k = p[net.par[j, 0]]
        if kind == FLOW:
            partition = 1.0 if net.par[j, 1] < 0 else p[net.par[j, 1]]
            v[j] = k * y[net.mod[j, 0]] / partition
            continue
        if kind == MASS_ACTION:
            w = k
            for q in range(net.reac_ptr[j], net.reac_ptr[j + 1]):
                order = net.reac_ord[q]
                c = y[net.reac_sp[q]]
                w *= c if order == 1 else _ipow(c, order)
        else:
            q1 = p[net.par[j, 1]]
            q2 = 0.0 if net.par[j, 2] < 0 else p[net.par[j, 2]]
            b = 0.0 if net.mod[j, 1] < 0 else y[net.mod[j, 1]]
            w = saturable_rate(kind, k, q1, q2, y[net.mod[j, 0]], b)
        v[j] = w if net.vol[j] < 0 else w * p[net.vol[j]]
    expression_rates_hook(net, p, y, v)


@njit(cache=True, error_model="numpy", nogil=True)
def network_rhs(net, p, u, y, v, dy):
    """Right-hand side dy/dt of the network ODE.

    Parameters
    ----------
    net : NetworkArrays
    p : float64[n_parameters]
    u : float64[n_species]
        Zero-order input of each species, amount per time.
    y : float64[n_species]
        Concentrations.
    v : float64[n_reactions]
        Work array; on return holds the reaction rates.
    dy : float64[n_species]
        Output.
    """
    reaction_rates(net, p, y, v)
    n = y.shape[0]
    for i in range(n):
        dy[i] = u[i]
    for j in range(net.kind.shape[0]):
        vj = v[j]
        for q in range(net.stoi_ptr[j], net.stoi_ptr[j + 1]):
            dy[net.stoi_sp[q]] += net.stoi_val[q] * vj
    for i in range(n):
        if net.sp_vol[i] >= 0:
            dy[i] /= p[net.sp_vol[i]]


@njit(cache=True, error_model="numpy", nogil=True)
def network_jacobian(net, p, y, jac):
    """Analytic Jacobian d(dy/dt)/dy of the network ODE, written into ``jac``.

    Each reaction's rate depends on at most a few species; for each dependency ``m`` with
    dv_j/dy_m = d, column ``m`` receives ``S_ij * d / V_i``.
    """
    n = y.shape[0]
    for i in range(n):
        for m in range(n):
            jac[i, m] = 0.0
    for j in range(net.kind.shape[0]):
        kind = net.kind[j]
        if kind == EXPRESSION:
            continue  # after the loop, all at once
        k = p[net.par[j, 0]]
        scale = 1.0 if (kind == FLOW or net.vol[j] < 0) else p[net.vol[j]]
        # Up to two (species, derivative) pairs for the non-mass-action kinds.
        col0 = -1
        col1 = -1
        d0 = 0.0
        d1 = 0.0
        if kind == MASS_ACTION:
            start = net.reac_ptr[j]
            stop = net.reac_ptr[j + 1]
            for r0 in range(start, stop):
                d = k * scale
                for r in range(start, stop):
                    order = net.reac_ord[r]
                    c = y[net.reac_sp[r]]
                    if r == r0:
                        d *= order * (1.0 if order == 1 else _ipow(c, order - 1))
                    else:
                        d *= c if order == 1 else _ipow(c, order)
                column = net.reac_sp[r0]
                for q in range(net.stoi_ptr[j], net.stoi_ptr[j + 1]):
                    i = net.stoi_sp[q]
                    volume = 1.0 if net.sp_vol[i] < 0 else p[net.sp_vol[i]]
                    jac[i, column] += net.stoi_val[q] * d / volume
            continue
        if kind == FLOW:
            partition = 1.0 if net.par[j, 1] < 0 else p[net.par[j, 1]]
            col0 = net.mod[j, 0]
            d0 = k / partition
        elif kind == MICHAELIS_MENTEN:
            col0 = net.mod[j, 0]
            s = y[col0]
            km = p[net.par[j, 1]]
            d0 = k * scale * (km / ((km + s) * (km + s)) if s >= 0.0 else 1.0 / km)
        elif kind == HILL_ACTIVATION or kind == HILL_REPRESSION:  # noqa: PLR1714 (numba-friendly)
            col0 = net.mod[j, 0]
            _, dfrac = _hill_fraction(y[col0], p[net.par[j, 1]], p[net.par[j, 2]])
            d0 = k * scale * (-dfrac if kind == HILL_REPRESSION else dfrac)
        else:  # QE_COMPLEX or QE_FREE
            col0 = net.mod[j, 0]
            col1 = net.mod[j, 1]
            a = y[col0]
            b = y[col1]
            c, delta = qe_complex(a, b, p[net.par[j, 1]])
            if delta > 0.0:
                dc_da = (max(b, 0.0) - c) / delta if a >= 0.0 else 0.0
                dc_db = (max(a, 0.0) - c) / delta if b >= 0.0 else 0.0
                if kind == QE_COMPLEX:
                    d0 = k * scale * dc_da
                    d1 = k * scale * dc_db
                else:
                    d0 = k * scale * ((1.0 if a >= 0.0 else 0.0) - dc_da)
                    d1 = -k * scale * dc_db
        for q in range(net.stoi_ptr[j], net.stoi_ptr[j + 1]):
            i = net.stoi_sp[q]
            factor = net.stoi_val[q] / (1.0 if net.sp_vol[i] < 0 else p[net.sp_vol[i]])
            jac[i, col0] += factor * d0
            if col1 >= 0:
                jac[i, col1] += factor * d1
    expression_derivatives_hook(net, p, y, jac, jac, True, False)


# inlined: an un-inlined call in a kernel blocks numba's reference-count pruning there
@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _saturable_partials(kind, k, q1, q2, a, b):
    """d(rate per volume)/d(k, q1, q2) of the non-mass-action kinds, from scalars."""
    if kind == MICHAELIS_MENTEN:
        if a >= 0.0:
            den = q1 + a
            return a / den, -k * a / (den * den), 0.0
        return a / q1, -k * a / (q1 * q1), 0.0
    if kind == HILL_ACTIVATION or kind == HILL_REPRESSION:  # noqa: PLR1714 (numba-friendly)
        frac, _ = _hill_fraction(a, q1, q2)
        if a > 0.0:
            # d frac / dK = -n frac (1 - frac) / K ; d frac / dn = frac (1 - frac) ln(a / K)
            dk_frac = -q2 * frac * (1.0 - frac) / q1
            dn_frac = frac * (1.0 - frac) * np.log(a / q1)
        else:
            dk_frac = 0.0
            dn_frac = 0.0
        if kind == HILL_REPRESSION:
            return 1.0 - frac, -k * dk_frac, -k * dn_frac
        return frac, k * dk_frac, k * dn_frac
    c, delta = qe_complex(a, b, q1)  # QE_COMPLEX or QE_FREE: dc/dkd = -c / delta
    dc_dkd = -c / delta if delta > 0.0 else 0.0
    if kind == QE_COMPLEX:
        return c, k * dc_dkd, 0.0
    return max(a, 0.0) - c, -k * dc_dkd, 0.0


@njit(cache=True, error_model="numpy", nogil=True)
def network_dfdp(net, p, u, y, v, dy, dfdp):
    """Partial derivatives of the right-hand side with respect to every parameter.

    Parameters
    ----------
    net, p, u, y : as in :func:`network_rhs`
    v, dy : float64 work arrays (reaction rates and right-hand side, filled)
    dfdp : float64[n_species, n_parameters]
        Output: ``d(dy_i/dt) / dp_k``, counting every role a parameter plays (rate constant,
        saturation constant, reaction volume, species volume).
    """
    # the right-hand side, written out rather than called: a call taking arrays would stop
    # numba from pruning this function's reference counts (measured: 17 atomics per call)
    reaction_rates(net, p, y, v)
    n = y.shape[0]
    for i in range(n):
        dy[i] = u[i]
    for j in range(net.kind.shape[0]):
        for q in range(net.stoi_ptr[j], net.stoi_ptr[j + 1]):
            dy[net.stoi_sp[q]] += net.stoi_val[q] * v[j]
    for i in range(n):
        if net.sp_vol[i] >= 0:
            dy[i] /= p[net.sp_vol[i]]
        for m in range(dfdp.shape[1]):
            dfdp[i, m] = 0.0
    for j in range(net.kind.shape[0]):
        kind = net.kind[j]
        if kind == EXPRESSION:
            continue  # after the loop, all at once
        k = p[net.par[j, 0]]
        # dv/dp for up to four parameters of reaction j: (index, derivative)
        i0 = net.par[j, 0]
        i1 = net.par[j, 1]
        i2 = net.par[j, 2]
        iv = -1
        d0 = 0.0
        d1 = 0.0
        d2 = 0.0
        dv = 0.0
        if kind == FLOW:
            partition = 1.0 if i1 < 0 else p[i1]
            c = y[net.mod[j, 0]]
            d0 = c / partition
            d1 = -k * c / (partition * partition)
        else:
            volume = 1.0 if net.vol[j] < 0 else p[net.vol[j]]
            if kind == MASS_ACTION:
                w = 1.0
                for q in range(net.reac_ptr[j], net.reac_ptr[j + 1]):
                    order = net.reac_ord[q]
                    c = y[net.reac_sp[q]]
                    w *= c if order == 1 else _ipow(c, order)
                d0 = w * volume
                dv = k * w
            else:
                q1 = p[i1]
                q2 = 0.0 if i2 < 0 else p[i2]
                b = 0.0 if net.mod[j, 1] < 0 else y[net.mod[j, 1]]
                g0, g1, g2 = _saturable_partials(kind, k, q1, q2, y[net.mod[j, 0]], b)
                d0 = g0 * volume
                d1 = g1 * volume
                d2 = g2 * volume
                dv = v[j] / volume if volume != 0.0 else 0.0
            iv = net.vol[j]
        for q in range(net.stoi_ptr[j], net.stoi_ptr[j + 1]):
            i = net.stoi_sp[q]
            factor = net.stoi_val[q] / (1.0 if net.sp_vol[i] < 0 else p[net.sp_vol[i]])
            dfdp[i, i0] += factor * d0
            if i1 >= 0:
                dfdp[i, i1] += factor * d1
            if i2 >= 0:
                dfdp[i, i2] += factor * d2
            if iv >= 0:
                dfdp[i, iv] += factor * dv
    expression_derivatives_hook(net, p, y, dfdp, dfdp, False, True)
    for i in range(n):
        if net.sp_vol[i] >= 0:
            # dy_i/dt = (...) / V_i
            dfdp[i, net.sp_vol[i]] -= dy[i] / p[net.sp_vol[i]]
