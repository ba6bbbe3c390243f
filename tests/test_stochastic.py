"""The stochastic core: RNG, SSA exactness, system size, tau-leaping, CLE, reproducibility, errors."""

import math

import numpy as np
import pytest
from numba import njit
from scipy import stats as sps
from stats import Z, chi_square_pvalue, se_covariance, se_mean, se_variance

import workbench as wb
from workbench.core import stochastic as sto
from workbench.core.ensemble import run_ssa
from workbench.core.random import exponential, next_u64, normal, poisson, spawn_states

# --- random numbers --------------------------------------------------------------------------

_MASK = (1 << 64) - 1


def xoshiro_reference(state, n):
    s = [int(v) for v in state]
    out = []
    for _ in range(n):
        out.append((s[0] + s[3]) & _MASK)
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = ((s[3] << 45) | (s[3] >> 19)) & _MASK
    return out


@njit
def _draw_u64(state, n):
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i], s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
    return out


@njit
def _draw(state, n, kind, lam):
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.empty(n)
    for i in range(n):
        if kind == 1:
            out[i], s0, s1, s2, s3 = exponential(s0, s1, s2, s3)
        elif kind == 2:
            out[i], s0, s1, s2, s3 = normal(s0, s1, s2, s3)
        else:
            k, s0, s1, s2, s3 = poisson(lam, s0, s1, s2, s3)
            out[i] = k
    return out


def test_xoshiro_matches_the_reference_algorithm():
    state = spawn_states(123, 1)[0]
    assert [int(x) for x in _draw_u64(state, 20)] == xoshiro_reference(state, 20)


def test_states_depend_only_on_seed_and_run_index():
    whole = spawn_states(7, 10)
    assert np.array_equal(np.vstack([spawn_states(7, 4), spawn_states(7, 6, first=4)]), whole)
    assert len({tuple(row) for row in whole}) == 10


@pytest.mark.parametrize(
    ("kind", "dist"),
    [(1, sps.expon()), (2, sps.norm())],
)
def test_continuous_variates_pass_kolmogorov_smirnov(kind, dist):
    samples = _draw(spawn_states(11, 1)[0], 200_000, kind, 0.0)
    assert sps.kstest(samples, dist.cdf).pvalue > 1e-3


@pytest.mark.parametrize("lam", [0.2, 3.7, 9.99, 10.0, 47.5, 3000.0])
def test_poisson_variates_pass_chi_square(lam):
    samples = _draw(spawn_states(12, 1)[0], 100_000, 3, lam).astype(np.int64)
    support = np.arange(samples.max() + 1)
    assert chi_square_pvalue(np.bincount(samples), sps.poisson(lam).pmf(support)) > 1e-3


# --- exactness of the direct method ------------------------------------------------------------


def test_birth_death_moments_match_closed_form():
    lam, mu, x0 = 0.1, 0.11, 100
    net = wb.ReactionNetwork(
        species={"X": x0}, parameters={"lam": lam, "mu": mu}, reactions=[("X -> 2 X", "lam"), ("X ->", "mu")]
    )
    ens = net.ssa(50, 51, 8000, seed=2024)
    x = ens["X"]
    g = lam - mu
    mean = x0 * np.exp(g * ens.t)
    var = x0 * (lam + mu) / g * np.exp(g * ens.t) * (np.exp(g * ens.t) - 1)
    later = ens.t > 0
    assert np.all(np.abs(ens.mean("X") - mean)[later] < Z * se_mean(x)[later])
    assert np.all(np.abs(ens.var("X") - var)[later] < Z * se_variance(x)[later])
    assert np.all(ens.mean("X")[0] == x0)


def test_immigration_death_is_poisson_at_steady_state():
    model = wb.BirthDeath(k=12.0, gamma=0.8, t_end=20.0)
    ens = model.ssa(20_000, seed=5, n_points=3)
    final = ens["X"][:, -1].astype(np.int64)
    support = np.arange(final.max() + 1)
    pvalue = chi_square_pvalue(np.bincount(final), sps.poisson(12.0 / 0.8).pmf(support))
    assert pvalue > 1e-3  # stated significance: the Poisson law is not rejected at 0.1%
    assert abs(ens.fano("X")[-1] - 1.0) < Z * (ens.fano_ci("X")[1][-1] - ens.fano("X")[-1]) / 1.96


def test_dimerisation_uses_pair_combinatorics():
    # 2 X -> 0 with rate law k C^2: propensity k X (X - 1) / Omega. From 2 molecules the first
    # (and only) event comes at rate 2k / Omega.
    k, omega = 0.7, 3.0
    net = wb.ReactionNetwork(species={"X": 2.0 / omega}, parameters={"k": k}, reactions=[("2 X ->", "k")])
    ens = net.ssa(t=[0.0, 1.0], n_runs=20_000, seed=9, volume=omega)
    survived = (ens["X"][:, 1] == 2).mean()
    expected = math.exp(-2 * k / omega)
    assert abs(survived - expected) < Z * math.sqrt(expected * (1 - expected) / ens.n_runs)


def test_two_stage_protein_fano_and_lna_covariance():
    model = wb.TwoStageExpression(km=10.0, gm=1.0, kp=5.0, gp=0.5)
    lna = wb.lna(model)
    ens = model.ssa(8000, t_end=40.0, n_points=3, seed=77)
    m = ens["M"][:, -1]
    p = ens["P"][:, -1]
    fano = ens.fano("P")[-1]
    low, high = ens.fano_ci("P", level=1 - 2e-4)
    exact = 1 + 5.0 / 1.5
    assert low[-1] < exact < high[-1]
    assert lna.fano[1] == pytest.approx(exact, rel=1e-10)
    assert abs(fano - exact) < 0.1 * exact
    cov = lna.covariance
    assert abs(np.var(m, ddof=1) - cov[0, 0]) < Z * se_variance(m)
    assert abs(np.var(p, ddof=1) - cov[1, 1]) < Z * se_variance(p)
    assert abs(np.cov(m, p)[0, 1] - cov[0, 1]) < Z * se_covariance(m, p)


def test_mean_converges_to_the_ode_as_volume_grows():
    # production and dimerisation: the SSA mean sits O(1/Omega) below the ODE
    net = wb.ReactionNetwork(
        species={"X": 0.0}, parameters={"k": 2.0, "kd": 1.0}, reactions=[("-> X", "k"), ("2 X ->", "kd")]
    )
    ode = net.simulate(t=[0.0, 10.0], rtol=1e-10, atol=1e-12)["X"][-1]
    gaps = []
    for omega in (2.0, 20.0, 200.0):
        ens = net.ssa(t=[0.0, 10.0], n_runs=4000, seed=int(omega), volume=omega)
        conc = ens["X"][:, -1] / omega
        gap = abs(conc.mean() - ode)
        gaps.append(gap)
        assert gap < 2.0 / omega + Z * se_mean(conc)
    assert gaps[2] < gaps[0]


def test_relative_fluctuations_scale_as_inverse_square_root_of_volume():
    net = wb.ReactionNetwork(
        species={"X": 0.0}, parameters={"k": 2.0, "kd": 1.0}, reactions=[("-> X", "k"), ("2 X ->", "kd")]
    )
    scaled = []
    for omega in (5.0, 50.0, 500.0):
        ens = net.ssa(t=[0.0, 10.0], n_runs=4000, seed=3 + int(omega), volume=omega)
        x = ens["X"][:, -1].astype(float)
        cv = x.std(ddof=1) / x.mean()
        # CV sqrt(Omega) is constant; its standard error from the variance's
        se = 0.5 * se_variance(x) / x.var(ddof=1) * cv + cv * se_mean(x) / x.mean()
        scaled.append((cv * math.sqrt(omega), se * math.sqrt(omega)))
    lna = wb.lna(net, volume=500.0)
    limit = math.sqrt(lna.variance[0]) / lna.mean[0] * math.sqrt(500.0)
    for value, se in scaled[1:]:
        assert abs(value - limit) < Z * se + 0.05 * limit  # LNA is exact only as Omega grows
    slope = np.polyfit(
        np.log([5.0, 50.0, 500.0]),
        np.log([v / math.sqrt(o) for (v, _), o in zip(scaled, (5.0, 50.0, 500.0), strict=True)]),
        1,
    )[0]
    assert slope == pytest.approx(-0.5, abs=0.05)


# --- reproducibility ---------------------------------------------------------------------------


def test_same_seed_gives_identical_ensembles_on_one_and_two_threads():
    model = wb.TwoStageExpression()
    one = model.ssa(300, seed=99, threads=1)
    two = model.ssa(300, seed=99, threads=2)
    assert np.array_equal(one.counts, two.counts)
    leap1 = model.ssa(300, seed=99, threads=1, method="tau_leap")
    leap2 = model.ssa(300, seed=99, threads=2, method="tau_leap")
    assert np.array_equal(leap1.counts, leap2.counts)
    other = model.ssa(300, seed=100, threads=2)
    assert not np.array_equal(one.counts, other.counts)


def test_chunks_reproduce_the_whole_ensemble():
    net = wb.TwoStageExpression().network()
    times = np.linspace(0, 20, 11)

    def part(n, first):
        return run_ssa(
            net.arrays, net._stochastic_arrays(), net.species, net.parameter_vector(), net.initial_vector(), times,
            t0=0.0, n_runs=n, seed=5, method="direct", volume=1.0, epsilon=0.03, max_events=10**8, threads=None,
            first_run=first,
        ).counts  # fmt: skip

    assert np.array_equal(np.concatenate([part(30, 0), part(70, 30)]), part(100, 0))


# --- tau-leaping and the chemical Langevin equation ----------------------------------------------


def test_tau_leaping_error_against_direct_method():
    # tau-leaping pays off with large copy numbers: ~200 mRNA, ~5000 proteins
    model = wb.TwoStageExpression(km=200.0, gm=1.0, kp=10.0, gp=0.2, t_end=10.0)
    direct = model.ssa(1000, seed=1, n_points=3)
    leap = model.ssa(1000, seed=2, n_points=3, method="tau_leap")
    assert leap.events.mean() < 0.05 * direct.events.mean()  # far fewer steps than events
    for species in ("M", "P"):
        a = direct[species][:, -1]
        b = leap[species][:, -1]
        assert abs(a.mean() - b.mean()) < Z * math.hypot(se_mean(a), se_mean(b))
        # epsilon = 0.03 keeps the variance within a few percent (bias), plus sampling error
        assert abs(a.var(ddof=1) - b.var(ddof=1)) < Z * math.hypot(se_variance(a), se_variance(b)) + 0.05 * a.var()


def test_tau_leaping_never_goes_negative_on_a_decaying_species():
    net = wb.ReactionNetwork(species={"X": 1000.0}, parameters={"k": 2.0}, reactions=[("X ->", "k")])
    ens = net.ssa(5.0, 51, 500, seed=4, method="tau_leap")
    assert ens.counts.min() >= 0
    # pure decay: X(t) ~ Binomial(1000, e^{-kt})
    p = math.exp(-2.0 * 1.0)
    x = ens["X"][:, 10]
    assert abs(x.mean() - 1000 * p) < Z * se_mean(x) + 0.02 * 1000 * p


def test_chemical_langevin_matches_lna_for_a_linear_network():
    model = wb.TwoStageExpression(km=20.0, gm=1.0, kp=5.0, gp=0.5, t_end=20.0)
    ens = model.cle(3000, seed=8, n_points=3, dt=0.004)
    lna = wb.lna(model)
    p = ens["P"][:, -1]
    assert abs(p.mean() - lna.mean[1]) < Z * se_mean(p)
    # Euler-Maruyama's variance bias is O(dt * rate) ~ 0.2%
    assert abs(p.var(ddof=1) - lna.variance[1]) < Z * se_variance(p) + 0.01 * lna.variance[1]


# --- ensemble API and errors -------------------------------------------------------------------


def test_ensemble_statistics_and_tables():
    ens = wb.BirthDeath().ssa(200, seed=3, n_points=11)
    assert ens.counts.shape == (200, 11, 1) and ens.counts.dtype == np.int64
    assert ens.mean().shape == (11, 1) and ens.mean("X").shape == (11,)
    low, high = ens.mean_ci("X")
    assert np.all(low <= ens.mean("X")) and np.all(ens.mean("X") <= high)
    _, probabilities = ens.histogram("X", 20.0)
    assert probabilities.sum() == pytest.approx(1.0)
    frame = ens.to_dataframe()
    assert list(frame.columns) == ["run", "t", "X"] and len(frame) == 200 * 11
    assert "200 runs" in repr(ens)
    assert ens.nbytes == 200 * 11 * 8


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda net: net.ssa(10, n_runs=0), wb.ModelError, "n_runs must be a positive integer"),
        (lambda net: net.ssa(10, volume=-1.0), wb.ModelError, "volume must be a positive"),
        (lambda net: net.ssa(10, initial={"X": 2.5}), wb.ModelError, "whole molecule numbers"),
        (lambda net: net.ssa(10, initial={"X": -1.0}), wb.ModelError, "must be non-negative"),
        (lambda net: net.ssa(10, method="next_reaction"), wb.ModelError, "unknown stochastic method"),
        (lambda net: net.ssa(10, max_events=10), wb.SolverError, "max_events = 10"),
    ],
)
def test_bad_stochastic_input(call, error, message):
    net = wb.BirthDeath(k=100.0).network()
    with pytest.raises(error, match=message):
        call(net)


def test_rate_law_that_does_not_vanish_with_its_reactant_is_caught():
    # X is degraded at a rate set by Y alone: once X is gone the reaction would make it negative
    net = wb.ReactionNetwork(
        species={"X": 3.0, "Y": 10.0},
        parameters={"v": 5.0, "K": 1.0, "n": 1.0},
        reactions=[("X ->", wb.Hill("v", "K", "n", regulator="Y"))],
    )
    with pytest.raises(wb.SolverError, match="fired without the molecules it consumes") as excinfo:
        net.ssa(10, n_runs=10, seed=1)
    assert excinfo.value.reason == "negative_count"


def test_nan_propensity_is_reported_by_the_kernel():
    net = wb.BirthDeath().network()
    p = net.parameter_vector()
    p[0] = math.nan  # bypasses validation, as corrupted input reaching the kernel would
    with pytest.raises(wb.SolverError, match="negative, NaN or infinite"):
        run_ssa(
            net.arrays, net._stochastic_arrays(), net.species, p, net.initial_vector(), np.linspace(0, 1, 3),
            t0=0.0, n_runs=2, seed=1, method="direct", volume=1.0, epsilon=0.03, max_events=1000, threads=None,
        )  # fmt: skip
    assert sto.BAD_PROPENSITY == 3
