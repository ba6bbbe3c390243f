"""Random numbers for the stochastic kernels: xoshiro256+ streams, one per run.

Why our own generator: numba's ``np.random`` has one Mersenne Twister per thread, seeded with
32 bits, so a million-run ensemble would repeat streams (about a hundred birthday collisions);
and results would depend on which thread ran which run unless every run reseeded it.
xoshiro256+ (Blackman & Vigna 2018) carries 256 bits of state per run, seeded from numpy's
``SeedSequence`` (one spawned child per run), passes BigCrush in its upper 53 bits, which are
the only bits we use, and costs about a nanosecond per draw. A run's numbers depend only on its
seed and index, never on threads, chunks or machines.

The kernels keep the state in four ``uint64`` scalars (registers), not an array: functions here
take and return the state explicitly.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["exponential", "next_u64", "normal", "poisson", "spawn_states", "uniform"]

_U11 = np.uint64(11)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U19 = np.uint64(19)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53


def spawn_states(seed: int | np.random.SeedSequence | None, n_runs: int, first: int = 0, stream: int = 0) -> np.ndarray:
    """Initial xoshiro256+ states for runs ``first .. first + n_runs - 1`` of an ensemble.

    Run ``i``'s state comes from ``SeedSequence(seed).spawn`` child ``i`` (the same child
    whatever ``first`` and ``n_runs`` are), so an ensemble split into chunks reproduces the
    whole ensemble exactly. ``stream`` ``k > 0`` takes that child's own child ``k`` instead:
    a further stream of run ``i``, independent of its first, for continuing the run.

    Returns
    -------
    uint64[n_runs, 4]
    """
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    states = np.empty((n_runs, 4), dtype=np.uint64)
    for row in range(n_runs):
        key = (*root.spawn_key, first + row) + ((stream,) if stream else ())
        child = np.random.SeedSequence(root.entropy, spawn_key=key)
        state = child.generate_state(4, dtype=np.uint64)
        if not state.any():  # the all-zero state is the generator's one fixed point
            state[0] = np.uint64(1)
        states[row] = state
    return states


@njit(cache=True, error_model="numpy", nogil=True)
def next_u64(s0, s1, s2, s3):
    """One xoshiro256+ step: ``(output, s0, s1, s2, s3)``."""
    result = s0 + s3
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    return result, s0, s1, s2, s3


@njit(cache=True, error_model="numpy", nogil=True)
def uniform(s0, s1, s2, s3):
    """A double in [0, 1) from the upper 53 bits: ``(u, s0, s1, s2, s3)``."""
    x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
    return float(x >> _U11) * _TWO_M53, s0, s1, s2, s3


def _ziggurat_exponential_tables(layers: int = 256):
    """Marsaglia & Tsang's (2000) ziggurat tables for Exp(1), for 53-bit integers."""
    r = 7.69711747013104972  # right edge of the base layer for 256 layers
    v = 3.949659822581572e-3  # area of each layer
    m = 2.0**53
    k = np.zeros(layers, dtype=np.uint64)
    w = np.zeros(layers)
    f = np.zeros(layers)
    d = r
    t = d
    q = v / math.exp(-d)
    k[0] = np.uint64((d / q) * m)
    k[1] = np.uint64(0)
    w[0] = q / m
    w[layers - 1] = d / m
    f[0] = 1.0
    f[layers - 1] = math.exp(-d)
    for i in range(layers - 2, 0, -1):
        d = -math.log(v / d + math.exp(-d))
        k[i + 1] = np.uint64((d / t) * m)
        t = d
        f[i] = math.exp(-d)
        w[i] = d / m
    return k, w, f, r


_ZK, _ZW, _ZF, _ZR = _ziggurat_exponential_tables()
_U3 = np.uint64(3)
_U8 = np.uint64(8)
_U255 = np.uint64(255)


@njit(cache=True, error_model="numpy", nogil=True)
def exponential(s0, s1, s2, s3):
    """An Exp(1) variate by the ziggurat method: ``(e, s0, s1, s2, s3)``.

    Exact in distribution; about 99% of draws cost one integer step and a multiply, against a
    logarithm for inversion, which was a third of the SSA's time per event.
    """
    while True:
        bits, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        bits >>= _U3
        layer = bits & _U255
        bits >>= _U8
        x = float(bits) * _ZW[layer]
        if bits < _ZK[layer]:
            return x, s0, s1, s2, s3
        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        if layer == 0:
            return _ZR - math.log(1.0 - u), s0, s1, s2, s3
        if (_ZF[layer - 1] - _ZF[layer]) * u + _ZF[layer] < math.exp(-x):
            return x, s0, s1, s2, s3


@njit(cache=True, error_model="numpy", nogil=True)
def normal(s0, s1, s2, s3):
    """A standard normal variate (Box-Muller, one of the pair): ``(z, s0, s1, s2, s3)``."""
    u1, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
    u2, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2), s0, s1, s2, s3


@njit(cache=True, error_model="numpy", nogil=True)
def poisson(lam, s0, s1, s2, s3):
    """A Poisson(lam) variate: ``(k, s0, s1, s2, s3)``.

    Inversion by sequential search for ``lam < 10``; Hormann's transformed rejection (PTRS,
    1993, as in numpy) above.
    """
    if lam <= 0.0:
        return 0, s0, s1, s2, s3
    if lam < 10.0:
        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        k = 0
        prob = math.exp(-lam)
        cdf = prob
        while u > cdf and k < 1000:
            k += 1
            prob *= lam / k
            cdf += prob
        return k, s0, s1, s2, s3
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        v, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k, s0, s1, s2, s3
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1.0):
            return k, s0, s1, s2, s3
