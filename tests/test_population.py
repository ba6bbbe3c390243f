"""Virtual populations, sweeps and chunked ensembles: statistics, invariance, bad input."""

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

import workbench as wb
from workbench.analysis import nca
from workbench.analysis.populations import BLOCK

Z = 4.0  # two-sided normal quantile for the statistical checks (P ~ 6e-5 each)


def one_compartment(**kw):
    return wb.OneCompartment(**{"dose": 100.0, "CL": 5.0, "V": 50.0, "t_end": 24.0, "n_points": 25, **kw})


def analytic_cdf(c, t, dose, cl, v, w_cl, w_v, rho):
    """P(C(t) <= c) for an IV bolus with log-normal CL and V (correlation rho), by quadrature.

    Given eta_V, C <= c  <=>  CL >= V ln(dose / (V c)) / t; eta_CL | eta_V is normal with mean
    rho w_CL / w_V eta_V and variance w_CL^2 (1 - rho^2).
    """
    if t == 0:
        return 1.0 - stats.norm.cdf(math.log(dose / (c * v)) / w_v)

    def integrand(eta_v):
        vi = v * math.exp(eta_v)
        log_ratio = math.log(dose / (vi * c))
        density = stats.norm.pdf(eta_v, scale=w_v)
        if log_ratio <= 0:
            return density
        eta_needed = math.log(vi * log_ratio / (t * cl))
        mean = rho * w_cl / w_v * eta_v
        return density * stats.norm.sf(eta_needed, loc=mean, scale=w_cl * math.sqrt(1 - rho * rho))

    return integrate.quad(integrand, -8 * w_v, 8 * w_v, epsabs=1e-12, limit=200)[0]


@pytest.mark.parametrize("keep", [True, False])
def test_percentile_bands_match_the_analytic_distribution(keep):
    n, w_cl, w_v, rho = 20_000, 0.3, 0.2, 0.5
    model = one_compartment()
    result = wb.population(
        model, n, {"CL": w_cl, "V": w_v}, correlation={("CL", "V"): rho}, seed=11, keep_trajectories=keep
    )
    assert (result.trajectories is not None) == keep
    bands = result.percentiles([5, 50, 95])
    for t in (0.0, 4.0, 12.0, 24.0):
        for q in (5, 50, 95):
            p = q / 100
            value = bands.loc[t, f"p{q}"]
            # the analytic CDF at a sample p-quantile is p within the sampling error sqrt(p(1-p)/n)
            assert analytic_cdf(value, t, 100.0, 5.0, 50.0, w_cl, w_v, rho) == pytest.approx(
                p, abs=Z * math.sqrt(p * (1 - p) / n)
            ), (t, q)
    # and the reported quantile sits where the analytic quantile is, to the same precision
    t = 12.0
    exact = optimize.brentq(lambda c: analytic_cdf(c, t, 100.0, 5.0, 50.0, w_cl, w_v, rho) - 0.5, 1e-3, 2.0)
    assert bands.loc[t, "p50"] == pytest.approx(exact, rel=0.02)


def test_draws_have_the_declared_variances_and_correlation():
    n, w_cl, w_v, rho = 20_000, 0.3, 0.2, -0.4
    result = wb.population(one_compartment(), n, {"CL": w_cl, "V": w_v}, correlation=[[1, rho], [rho, 1]], seed=2)
    log_cl = np.log(result.parameters["CL"] / 5.0)
    log_v = np.log(result.parameters["V"] / 50.0)
    for sample, omega in ((log_cl, w_cl), (log_v, w_v)):
        lo, hi = stats.chi2.ppf([1e-5, 1 - 1e-5], n - 1) / (n - 1)
        assert lo < np.var(sample, ddof=1) / omega**2 < hi
        assert abs(np.mean(sample)) < Z * omega / math.sqrt(n)
    r = np.corrcoef(log_cl, log_v)[0, 1]
    assert abs(np.arctanh(r) - np.arctanh(rho)) < Z / math.sqrt(n - 3)  # Fisher z


def test_allometric_scaling_and_logit_normal_bioavailability():
    weights = np.linspace(40.0, 120.0, 500)
    result = wb.population(
        one_compartment(route="oral", F=0.8),
        500,
        {"CL": 0.0, "V": 0.0, "F": 0.5},
        covariates=wb.Allometric({"CL": 0.75, "V": 1.0}, weights=weights),
        seed=3,
    )
    np.testing.assert_allclose(result.parameters["CL"], 5.0 * (weights / 70) ** 0.75, rtol=1e-14)
    np.testing.assert_allclose(result.parameters["V"], 50.0 * weights / 70, rtol=1e-14)
    f = result.parameters["F"].to_numpy()
    assert np.all((f > 0) & (f < 1))  # logit-normal: every subject inside the bounds
    logit = np.log(f / (1 - f)) - math.log(0.8 / 0.2)
    assert abs(np.mean(logit)) < Z * 0.5 / math.sqrt(f.size)
    # F scales the absorbed dose exactly: Cmax / F is the same for two subjects with equal CL, V
    cmax_over_f = result.nca["cmax"].to_numpy() / f
    same = np.isclose(weights, weights[0])
    assert np.ptp(cmax_over_f[same]) == 0.0 or same.sum() == 1


def test_population_nca_equals_the_nca_of_each_profile():
    model = one_compartment(route="oral", n_doses=3, interval=8.0, t_end=48.0, n_points=97)
    result = wb.population(model, 300, {"CL": 0.3, "V": 0.2, "ka": 0.4}, seed=5)
    for i in range(0, 300, 37):
        expected = nca(result.times, result.trajectories[i])
        row = result.nca.iloc[i]
        for column in ("cmax", "tmax", "clast", "tlast", "auc_0_t", "lambda_z", "t_half"):
            assert row[column] == pytest.approx(getattr(expected, column), rel=1e-12, nan_ok=True), column
        last_interval = result.times >= 16.0
        assert row["cmin_after_last_dose"] == result.trajectories[i][last_interval].min()
    # each trajectory is the model's own simulation at that subject's parameters
    subject = result.parameters.iloc[7]
    alone = model.copy(CL=subject["CL"], V=subject["V"], ka=subject["ka"]).simulate(t=result.times)
    np.testing.assert_allclose(result.trajectories[7], alone["C"], rtol=1e-12)


def test_results_do_not_depend_on_chunking_or_storage():
    model = one_compartment(n_doses=3, interval=8.0)
    variability = {"CL": 0.3, "V": 0.2}
    runs = [wb.population(model, 4321, variability, seed=9, chunk_size=size) for size in (BLOCK, 3 * BLOCK, 10**6)]
    streamed = wb.population(model, 4321, variability, seed=9, keep_trajectories=False, chunk_size=2 * BLOCK)
    for other in [*runs[1:], streamed]:
        assert other.parameters.equals(runs[0].parameters)
        assert other.nca.equals(runs[0].nca)
        assert np.array_equal(other.mean, runs[0].mean) and np.array_equal(other.sd, runs[0].sd)
    for other in runs[1:]:
        assert np.array_equal(other.trajectories, runs[0].trajectories)
    # streamed percentiles agree with the exact ones within one histogram bin
    exact, binned = runs[0].percentiles(), streamed.percentiles()
    np.testing.assert_allclose(binned.to_numpy(), exact.to_numpy(), rtol=4e-3)
    np.testing.assert_allclose(runs[0].mean, runs[0].trajectories.mean(axis=0), rtol=1e-12)


def test_regimen_comparison_uses_the_same_subjects_and_reports_target_attainment():
    # an antibody-like drug (half-life about two weeks) over six weeks
    weeks = 7 * 24.0
    model = one_compartment(t_end=6 * weeks, n_points=337, CL=0.01, V=5.0)
    comparison = wb.compare_regimens(
        model,
        {"q3w": {"dose": 200.0, "interval": 3 * weeks, "n_doses": 2}, "q6w": {"dose": 400.0, "interval": 6 * weeks}},
        2000,
        {"CL": 0.3, "V": 0.2},
        seed=4,
    )
    q3w, q6w = comparison.results["q3w"], comparison.results["q6w"]
    assert q3w.parameters.equals(q6w.parameters)
    table = comparison.summary("cmin_after_last_dose", 10.0)
    # double the dose half as often: higher peaks, lower troughs, fewer subjects above the target
    assert table.loc["q6w", "cmax p50"] > table.loc["q3w", "cmax p50"]
    assert table.loc["q6w", "cmin_after_last_dose p50"] < table.loc["q3w", "cmin_after_last_dose p50"]
    pta3, pta6 = q3w.pta("cmin_after_last_dose", 10.0), q6w.pta("cmin_after_last_dose", 10.0)
    assert pta6.high < pta3.low
    assert pta3.low <= pta3.probability <= pta3.high and table.loc["q3w", "PTA low"] == pta3.low
    # a subject's trough is the model's own at its parameters
    subject = q6w.parameters.iloc[3]
    alone = model.copy(dose=400.0, interval=6 * weeks, CL=subject["CL"], V=subject["V"]).simulate(t=q6w.times)
    assert q6w.nca["cmin_after_last_dose"].iloc[3] == pytest.approx(alone["C"].min(), rel=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: wb.population(m, 0, {"CL": 0.3}), "n must be a positive integer"),
        (lambda m: wb.population(m, 2.5, {"CL": 0.3}), "n must be a positive integer"),
        (lambda m: wb.population(m, 10, {"Cl": 0.3}), "has no such parameter"),
        (lambda m: wb.population(m, 10, {"interval": 0.3}), "not supported"),
        (lambda m: wb.population(m, 10, {"CL": -0.1}), "omega of 'CL'"),
        (lambda m: wb.population(m, 10, {"CL": 0.3, "V": 0.2}, correlation=[[1, 1.2], [1.2, 1]]), r"\[-1, 1\]"),
        (
            lambda m: wb.population(
                m, 10, {"CL": 0.3, "V": 0.2, "ka": 0.1}, correlation=[[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]
            ),
            "not positive definite",
        ),
        (lambda m: wb.population(m, 10, {"CL": 0.3}, correlation=[[1, 0.5], [0.5, 1]]), "must be 1 x 1"),
        (lambda m: wb.population(m, 10, {"CL": 0.3}, times=[0, 2, 1]), "increasing"),
        (lambda m: wb.population(m, 10, {"CL": 0.3}, observable="Q"), "observable must be a species"),
        (lambda m: wb.sweep(m, {"CL": [1, 2]}, ["nope"]), "unknown outputs"),
        (lambda m: wb.sweep(m, {"Cl": [1, 2]}), "no parameter 'Cl'"),
        (lambda m: wb.sweep(m, {"CL": (1, 2)}, method="lhs"), "needs n >= 1"),
        (lambda m: wb.ssa_ensemble(m, 0), "n_runs must be a positive integer"),
    ],
)
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(wb.ModelError, match=message):
        call(one_compartment())


def test_sweep_grid_and_latin_hypercube():
    model = one_compartment()
    table = wb.sweep(model, {"CL": [2.0, 5.0], "V": [20.0, 50.0]}, ["cmax", "auc", "t_half"])
    assert len(table) == 4 and (table["error"] == "").all()
    np.testing.assert_allclose(table["cmax"], 100.0 / table["V"], rtol=1e-9)  # C0 = dose / V
    np.testing.assert_allclose(table["t_half"], math.log(2) * table["V"] / table["CL"], rtol=1e-4)
    lhs = wb.sweep(model, {"CL": (1.0, 10.0), "V": (10.0, 100.0)}, ["cmax"], method="lhs", n=40, seed=1)
    # one point per stratum in each dimension (log-uniform strata for log-declared parameters)
    for name, (lo, hi) in {"CL": (1.0, 10.0), "V": (10.0, 100.0)}.items():
        strata = np.floor(40 * np.log(lhs[name] / lo) / np.log(hi / lo)).astype(int)
        assert sorted(strata) == list(range(40))
    switch = wb.sweep(wb.AutoActivation(), {"gamma": [0.5, 1.0, 1.5]}, ["stable_states"])
    assert switch["stable_states"].tolist() == [1.0, 2.0, 1.0]


def test_chunked_ssa_ensemble_equals_one_call():
    model = wb.TwoStageExpression()
    whole = model.ssa(3000, seed=7)
    chunked = wb.ssa_ensemble(model, 3000, seed=7, chunk_size=701)
    assert np.array_equal(whole.counts, chunked.counts)


# -- on a Dask cluster ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local,
        distributed.Client(local) as client,
    ):
        yield local, client


@pytest.mark.slow
def test_a_cluster_gives_bit_identical_populations_sweeps_and_ensembles(cluster):
    _, client = cluster
    model = one_compartment(n_doses=3, interval=8.0)
    variability = {"CL": 0.3, "V": 0.2}
    here = wb.population(model, 5000, variability, seed=21, chunk_size=5000)
    for size in (BLOCK, 2 * BLOCK):
        there = wb.population(model, 5000, variability, seed=21, chunk_size=size, client=client)
        assert np.array_equal(there.trajectories, here.trajectories)
        assert there.nca.equals(here.nca) and there.parameters.equals(here.parameters)
        assert np.array_equal(there.mean, here.mean) and np.array_equal(there.sd, here.sd)
    streamed_here = wb.population(model, 3000, variability, seed=21, keep_trajectories=False)
    streamed_there = wb.population(model, 3000, variability, seed=21, keep_trajectories=False, client=client)
    assert np.array_equal(streamed_here.histogram, streamed_there.histogram)
    grid = {"CL": [2.0, 5.0, 8.0], "V": [20.0, 50.0]}
    sweep_here = wb.sweep(model, grid, ["cmax", "auc", "fim_condition"], chunk_size=6)
    for size in (1, 4):
        assert wb.sweep(model, grid, ["cmax", "auc", "fim_condition"], chunk_size=size, client=client).equals(
            sweep_here
        )
    gene = wb.TwoStageExpression()
    ensemble_here = gene.ssa(2000, seed=5)
    for size in (500, 1500):
        assert np.array_equal(
            wb.ssa_ensemble(gene, 2000, seed=5, chunk_size=size, client=client).counts, ensemble_here.counts
        )


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_and_duplicates_no_subject(cluster):
    import os
    import signal
    import threading

    _, client = cluster
    model = one_compartment(n_doses=3, interval=8.0, n_points=2001)
    options = {"seed": 33, "chunk_size": BLOCK, "rtol": 1e-10, "atol": 1e-13, "keep_trajectories": True}
    expected = wb.population(model, 16 * BLOCK, {"CL": 0.3, "V": 0.2}, **options)
    outcome = {}

    def run():
        try:
            outcome["result"] = wb.population(model, 16 * BLOCK, {"CL": 0.3, "V": 0.2}, client=client, **options)
        except Exception as err:  # reported by the main thread
            outcome["error"] = err

    worker = threading.Thread(target=run)
    worker.start()
    # wait until the cluster is busy, then kill one worker process outright
    for _ in range(400):
        if any(client.processing().values()):
            break
        threading.Event().wait(0.05)
    pids = client.run(os.getpid)
    victim = next(iter(pids.values()))
    still_running = worker.is_alive()
    os.kill(victim, signal.SIGKILL)
    worker.join(timeout=300)
    assert "error" not in outcome, outcome.get("error")
    assert still_running, "the run finished before the worker was killed; make the chunks heavier"
    result = outcome["result"]
    assert result.n == expected.n
    assert np.array_equal(result.trajectories, expected.trajectories)
    assert result.nca.equals(expected.nca)
    client.wait_for_workers(2, timeout=120)  # the nanny restarts it for the next test
