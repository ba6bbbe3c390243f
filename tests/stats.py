"""Statistical helpers for the stochastic tests: standard errors from sample moments.

Every stochastic test is seeded (so it is deterministic) and compares with a tolerance derived
from the sample size: ``Z`` standard errors, with ``Z`` set for a small family-wise error rate.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from scipy import stats

#: Two-sided 1e-4 level per comparison: a test of ~50 comparisons keeps a family-wise level
#: below 0.5% before seeding makes it deterministic.
Z = NormalDist().inv_cdf(1 - 0.5e-4)


def se_mean(samples: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard error of the mean."""
    return samples.std(axis=axis, ddof=1) / np.sqrt(samples.shape[axis])


def se_variance(samples: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard error of the unbiased sample variance, from the fourth central moment."""
    n = samples.shape[axis]
    dev = samples - samples.mean(axis=axis, keepdims=True)
    m2 = (dev**2).mean(axis=axis)
    m4 = (dev**4).mean(axis=axis)
    return np.sqrt(np.maximum(m4 - (n - 3) / (n - 1) * m2**2, 0.0) / n)


def se_covariance(x: np.ndarray, y: np.ndarray) -> float:
    """Standard error of the sample covariance of paired samples."""
    n = x.size
    dx = x - x.mean()
    dy = y - y.mean()
    c = np.mean(dx * dy)
    return float(np.sqrt(max(np.mean((dx * dy) ** 2) - c**2, 0.0) / n))


def chi_square_pvalue(
    observed_counts: np.ndarray, expected_probabilities: np.ndarray, min_expected: float = 5.0
) -> float:
    """Chi-square goodness-of-fit p-value, merging tail bins until each expects >= 5."""
    n = observed_counts.sum()
    expected = expected_probabilities * n
    obs_bins, exp_bins = [], []
    acc_o = acc_e = 0.0
    for o, e in zip(observed_counts, expected, strict=True):
        acc_o += o
        acc_e += e
        if acc_e >= min_expected:
            obs_bins.append(acc_o)
            exp_bins.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0 and obs_bins:
        obs_bins[-1] += acc_o
        exp_bins[-1] += acc_e
    obs = np.array(obs_bins)
    exp = np.array(exp_bins)
    exp *= obs.sum() / exp.sum()
    return float(stats.chisquare(obs, exp).pvalue)
