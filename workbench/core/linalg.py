"""Dense LU factorisation with partial pivoting, as numba kernels.

Our systems are small (a handful to a few dozen species), where a hand-written element loop
beats calling LAPACK through numpy (no allocation, no dispatch) and keeps the integrators'
whole time loop inside one compiled function.
"""

from __future__ import annotations

from numba import njit

__all__ = ["lu_factor", "lu_solve", "lu_solve_columns"]


@njit(cache=True, error_model="numpy", nogil=True)
def lu_factor(a, piv):
    """Factor ``a`` in place as P A = L U (unit lower L stored below the diagonal).

    Parameters
    ----------
    a : float64[n, n]
        Overwritten with the factors.
    piv : int64[n]
        Output row permutation: row ``i`` was swapped with row ``piv[i]``.

    Returns
    -------
    int
        0 on success, ``k + 1`` if the pivot in column ``k`` is exactly zero (singular).
    """
    n = a.shape[0]
    for k in range(n):
        best = k
        best_abs = abs(a[k, k])
        for i in range(k + 1, n):
            v = abs(a[i, k])
            if v > best_abs:
                best = i
                best_abs = v
        piv[k] = best
        if best_abs == 0.0:
            return k + 1
        if best != k:
            for m in range(n):
                tmp = a[k, m]
                a[k, m] = a[best, m]
                a[best, m] = tmp
        inv = 1.0 / a[k, k]
        for i in range(k + 1, n):
            factor = a[i, k] * inv
            a[i, k] = factor
            if factor != 0.0:
                for m in range(k + 1, n):
                    a[i, m] -= factor * a[k, m]
    return 0


@njit(cache=True, error_model="numpy", nogil=True)
def lu_solve(lu, piv, b):
    """Solve A x = b in place in ``b``, given ``lu, piv`` from :func:`lu_factor`."""
    n = lu.shape[0]
    for k in range(n):
        p = piv[k]
        if p != k:
            tmp = b[k]
            b[k] = b[p]
            b[p] = tmp
    for i in range(1, n):
        s = b[i]
        for m in range(i):
            s -= lu[i, m] * b[m]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for m in range(i + 1, n):
            s -= lu[i, m] * b[m]
        b[i] = s / lu[i, i]


@njit(cache=True, error_model="numpy", nogil=True)
def lu_solve_columns(lu, piv, b):
    """Solve A X = B in place for every column of ``b`` (n x m), given ``lu, piv``."""
    n = lu.shape[0]
    m = b.shape[1]
    for k in range(n):
        p = piv[k]
        if p != k:
            for c in range(m):
                tmp = b[k, c]
                b[k, c] = b[p, c]
                b[p, c] = tmp
    for i in range(1, n):
        for j in range(i):
            factor = lu[i, j]
            if factor != 0.0:
                for c in range(m):
                    b[i, c] -= factor * b[j, c]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            factor = lu[i, j]
            if factor != 0.0:
                for c in range(m):
                    b[i, c] -= factor * b[j, c]
        inv = 1.0 / lu[i, i]
        for c in range(m):
            b[i, c] *= inv
