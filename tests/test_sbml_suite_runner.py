"""The SBML Test Suite runner (workbench.sbml.suite): parsing, scoring, statuses, reports.

No simulation: the simulators here are fakes that hand back the suite's own expected
results (or perturb them, or raise). Tests that read the suite skip when it is absent.
"""

import json
import math
import os
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from workbench.errors import UnsupportedSBMLError
from workbench.sbml import suite

# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def root() -> Path:
    path = suite.default_suite_path()
    if not (path / "semantic").is_dir():
        pytest.skip(f"the SBML Test Suite is not at {path} (set {suite.SUITE_ENV} to its folder)")
    return path


@pytest.fixture(scope="module")
def semantic_cases(root) -> list[suite.Case]:
    return suite.find_cases(root, "semantic")


def real_case(root: Path, kind: str, case_id: str) -> suite.Case:
    (case,) = suite.find_cases(root, kind, [case_id])
    return case


SETTINGS = """start: 0
duration: 2
steps: 4
variables: A, B
absolute: 0.001
relative: 0.01
amount: A, B
concentration:
"""

RESULTS = """time,A,B
0,1,0
0.5,0.8,0.2
1,0.6,0.4
1.5,0.4,0.6
2,0.2,0.8
"""


def write_case(
    base: Path,
    case_id: str = "00001",
    kind: str = "semantic",
    *,
    settings: str = SETTINGS,
    results: str = RESULTS,
    component_tags: str = "Compartment, Species, Reaction",
    test_tags: str = "Amount",
    test_type: str = "TimeCourse",
    models: tuple[str, ...] = ("l3v2",),
) -> Path:
    """A case folder like the suite's (the SBML files are empty: nothing reads them here)."""
    directory = base / kind / case_id
    directory.mkdir(parents=True)
    (directory / f"{case_id}-settings.txt").write_text(settings)
    (directory / f"{case_id}-results.csv").write_text(results)
    (directory / f"{case_id}-model.m").write_text(
        "(*\n\ncategory:      Test\nsynopsis:      A synthetic case\n"
        f"componentTags: {component_tags}\ntestTags:      {test_tags}\ntestType:      {test_type}\n\n*)\n"
    )
    for model in models:
        (directory / f"{case_id}-sbml-{model}.xml").write_text("<sbml/>")
    return directory


def expected_of(case: suite.Case) -> pd.DataFrame:
    return suite.read_results(case.results_path)


# --- settings, descriptions, cases ------------------------------------------------------------


def test_read_settings_of_a_semantic_case(root):
    settings = suite.read_settings(root / "semantic" / "00001" / "00001-settings.txt")
    assert settings.start == 0.0
    assert settings.duration == 5.0
    assert settings.steps == 50
    assert settings.variables == ["S1", "S2"]
    assert settings.absolute == pytest.approx(1e-7)
    assert settings.relative == pytest.approx(1e-4)
    assert settings.amount == ["S1", "S2"]
    assert settings.concentration == []
    assert settings.output == []
    assert settings.mean_range is None and settings.sd_range is None
    np.testing.assert_allclose(settings.times, np.linspace(0, 5, 51))


def test_read_settings_of_a_stochastic_case(root):
    settings = suite.read_settings(root / "stochastic" / "00001" / "00001-settings.txt")
    assert settings.absolute is None  # "absolute: " is empty in every stochastic case
    assert settings.relative is None
    assert settings.variables == ["X"]
    assert settings.output == ["X-mean", "X-sd"]
    assert settings.output_quantities == ["X"]
    assert settings.mean_range == (-3.0, 3.0)
    assert settings.sd_range == (-5.0, 5.0)
    assert all(isinstance(v, float) for v in settings.mean_range + settings.sd_range)


def test_read_settings_of_odd_cases(root):
    # flux balance: no time course at all
    fba = suite.read_settings(root / "semantic" / "01186" / "01186-settings.txt")
    assert fba.start is None and fba.duration is None and fba.steps is None
    assert fba.variables == ["R01", "R26", "OBJF"]
    with pytest.raises(ValueError, match="no time course"):
        _ = fba.times
    # uneven spacing in the variable list
    assert len(suite.read_settings(root / "semantic" / "00959" / "00959-settings.txt").variables) == 26
    # a log-normal distribution's output is ln(X)
    assert suite.read_settings(root / "stochastic" / "00056" / "00056-settings.txt").output_quantities == ["ln(X)"]


def test_read_settings_tolerates_spacing_and_reports_bad_numbers(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text(
        "start:0\nduration :  10\nsteps:   5\nvariables:a,b ,  c\nabsolute:\nrelative:1e-3\n"
        "amount:\nconcentration: a\nmeanRange:(-3,3)\nsdRange: ( -4.5 , 4.5 )\nsomething: else\n"
    )
    settings = suite.read_settings(path)
    assert (settings.start, settings.duration, settings.steps) == (0.0, 10.0, 5)
    assert settings.variables == ["a", "b", "c"]
    assert settings.absolute is None and settings.relative == 1e-3
    assert settings.concentration == ["a"]
    assert settings.mean_range == (-3.0, 3.0) and settings.sd_range == (-4.5, 4.5)
    assert settings.extra == {"something": "else"}
    path.write_text("start: zero\n")
    with pytest.raises(ValueError, match="start"):
        suite.read_settings(path)


def test_find_cases_counts_match_the_directories(root, semantic_cases):
    for kind in ("semantic", "stochastic"):
        folders = [p for p in (root / kind).iterdir() if p.is_dir() and (p / f"{p.name}-settings.txt").is_file()]
        cases = semantic_cases if kind == "semantic" else suite.find_cases(root, kind)
        assert len(cases) == len(folders) > 0
        assert [c.id for c in cases] == sorted(p.name for p in folders)
        assert all(c.kind == kind and c.model is not None for c in cases)
    few = range(1, 40)
    n_semantic, n_stochastic = (len(suite.find_cases(root, kind, few)) for kind in ("semantic", "stochastic"))
    everything = suite.find_cases(root, "all", few)
    assert [c.kind for c in everything] == ["semantic"] * n_semantic + ["stochastic"] * n_stochastic


def test_find_cases_selects_ids_and_prefers_level_3_version_2(root, semantic_cases):
    cases = suite.find_cases(root, "semantic", [1, "2", "00004", 3])  # 00003 is not in the suite
    assert [c.id for c in cases] == ["00001", "00002", "00004"]
    assert cases[0].model.name == "00001-sbml-l3v2.xml"
    only_v1 = [c for c in semantic_cases if not (c.directory / f"{c.id}-sbml-l3v2.xml").exists()]
    assert only_v1, "the suite has cases with only an l3v1 model"
    assert all(c.model.name.endswith("-sbml-l3v1.xml") for c in only_v1)


def test_find_cases_reads_tags_and_test_types(root):
    case = real_case(root, "semantic", "00001")
    assert case.component_tags == ["Compartment", "Species", "Reaction", "Parameter"]
    assert case.test_tags == ["Amount"]
    assert case.test_type == "TimeCourse"
    # 00965 repeats an older header ("Previous version of this file") further down: the first counts
    repeated = real_case(root, "semantic", "00965")
    assert repeated.component_tags[0] == "AssignmentRule" and "RandomEventExecution" in repeated.test_tags
    assert real_case(root, "semantic", "01186").test_type == "FluxBalanceSteadyState"
    assert real_case(root, "stochastic", "00001").test_type == "StochasticTimeCourse"
    assert real_case(root, "stochastic", "00040").test_type == "StatisticalDistribution"


def test_description_parsing_is_robust(tmp_path):
    directory = write_case(tmp_path, test_tags="Amount,testType: TimeCourse, NonConstantParameter", test_type="")
    (directory / "00001-model.m").write_text(
        "(*\ncomponentTags:Species,Reaction ,\ntestTags :   Amount, testType: TimeCourse, NonConstantParameter\n*)\n"
    )
    (case,) = suite.find_cases(tmp_path, "semantic")
    assert case.component_tags == ["Species", "Reaction"]
    assert case.test_tags == ["Amount", "NonConstantParameter"]  # the pseudo-tag is no tag
    assert case.test_type == "TimeCourse"  # ... but it gives the test type when no line does


def test_find_cases_falls_back_to_l3v1_and_rejects_unknown_kinds(tmp_path):
    write_case(tmp_path, "00007", models=("l3v1",))
    write_case(tmp_path, "00008", models=("l3v1", "l3v2"))
    cases = suite.find_cases(tmp_path, "semantic")
    assert [c.model.name for c in cases] == ["00007-sbml-l3v1.xml", "00008-sbml-l3v2.xml"]
    with pytest.raises(ValueError, match="kind"):
        suite.find_cases(tmp_path, "syntactic")
    with pytest.raises(FileNotFoundError):
        suite.find_cases(tmp_path, "stochastic")


def test_default_suite_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(suite.SUITE_ENV, raising=False)
    assert suite.default_suite_path() == suite.DEFAULT_SUITE
    assert suite.DEFAULT_SUITE.parts[-2:] == ("shared", "sbml-test-suite")
    monkeypatch.setenv(suite.SUITE_ENV, str(tmp_path))
    assert suite.default_suite_path() == tmp_path


# --- results files --------------------------------------------------------------------------------


def test_read_results_handles_the_suites_quirks(root):
    blanks = suite.read_results(root / "semantic" / "00950" / "00950-results.csv")  # "time, P, Q, R" / "INF,-INF, NaN"
    assert list(blanks.columns) == ["P", "Q", "R"] and blanks.index.name == "time"
    assert np.isposinf(blanks["P"]).all() and np.isneginf(blanks["Q"]).all() and blanks["R"].isna().all()
    named_time = suite.read_results(root / "semantic" / "01820" / "01820-results.csv")  # "Time,time,Time,TIME"
    assert list(named_time.columns) == ["time", "Time", "TIME"]
    assert list(named_time.iloc[0]) == [10.0, 11.0, 12.0]
    fba = suite.read_results(root / "semantic" / "01186" / "01186-results.csv")  # no time column
    assert list(fba.columns) == ["R01", "R26", "OBJF"] and len(fba) == 1


def test_read_stochastic_results_layouts(root):
    # DSMTS cases: results.csv (means, then sds) and the original dsmts-*-mean.csv / -sd.csv agree
    case = real_case(root, "stochastic", "00024")
    mean, sd = suite.read_stochastic_results(case)
    assert list(mean.columns) == list(sd.columns) == ["X", "Source", "Sink"]
    assert len(mean) == case.settings.steps + 1
    (mean_file,) = case.directory.glob("dsmts-*-mean.csv")
    (sd_file,) = case.directory.glob("dsmts-*-sd.csv")
    pd.testing.assert_frame_equal(mean, suite.read_results(mean_file))
    pd.testing.assert_frame_equal(sd, suite.read_results(sd_file))
    # distribution cases: only results.csv; a log-normal one reports ln(X); a Cauchy one has no sd
    mean, sd = suite.read_stochastic_results(real_case(root, "stochastic", "00056"))
    assert list(mean.columns) == ["ln(X)"] and list(sd.columns) == ["ln(X)"]
    mean, sd = suite.read_stochastic_results(real_case(root, "stochastic", "00049"))
    assert list(mean.columns) == ["X"] and list(sd.columns) == []


def test_read_results_rejects_ragged_rows(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("time,A\n0,1\n1,2,3\n")
    with pytest.raises(ValueError, match="line 3"):
        suite.read_results(path)


# --- semantic scoring -----------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", ["00001", "00950", "01121", "01820"])
def test_semantic_check_passes_the_expected_results(root, case_id):
    case = real_case(root, "semantic", case_id)
    expected = expected_of(case)
    passed, detail = suite.semantic_check(expected, expected.copy(), case.settings)
    assert passed, detail
    # the times as a plain column or no times at all are as good
    as_column = expected.reset_index() if case_id != "01820" else expected.reset_index(drop=True)
    assert suite.semantic_check(expected, as_column, case.settings)[0]


def test_semantic_check_passes_every_case_against_itself(semantic_cases):
    for case in semantic_cases:
        expected = expected_of(case)
        passed, detail = suite.semantic_check(expected, expected, case.settings)
        assert passed, (case.id, detail)


@pytest.mark.parametrize("case_id", ["00001", "00002", "00959"])
def test_semantic_check_tolerance_edge(root, case_id):
    case = real_case(root, "semantic", case_id)
    expected = expected_of(case)
    variable = case.settings.variables[-1]
    row = int(np.argmax(np.abs(expected[variable].to_numpy())))  # the largest value: relative tolerance matters
    value = expected[variable].iloc[row]
    tolerance = case.settings.absolute + case.settings.relative * abs(value)

    def perturbed(factor):
        actual = expected.copy()
        actual.iloc[row, actual.columns.get_loc(variable)] = value + factor * tolerance
        return suite.semantic_check(expected, actual, case.settings)

    assert perturbed(0.99)[0], perturbed(0.99)[1]
    assert perturbed(-0.99)[0]
    passed, detail = perturbed(1.01)
    assert not passed
    assert variable in detail and f"t={expected.index[row]:g}" in detail and "1 of" in detail
    assert not perturbed(-1.01)[0]


def test_semantic_check_non_finite_values_must_match_exactly(root):
    case = real_case(root, "semantic", "00950")  # P = INF, Q = -INF, R = NaN throughout
    expected = expected_of(case)
    for variable, replacement in (("P", 1e300), ("Q", np.inf), ("R", 0.0), ("P", np.nan)):
        actual = expected.copy()
        actual.loc[actual.index[3], variable] = replacement
        passed, detail = suite.semantic_check(expected, actual, case.settings)
        assert not passed, (variable, replacement)
        assert f"{variable} at t={expected.index[3]:g}" in detail and "exactly" in detail


def test_semantic_check_nan_where_a_number_is_expected_fails(root):
    case = real_case(root, "semantic", "00001")
    expected = expected_of(case)
    actual = expected.copy()
    actual.loc[actual.index[10], "S2"] = np.nan
    passed, detail = suite.semantic_check(expected, actual, case.settings)
    assert not passed and "S2 at t=1:" in detail and "got nan" in detail


def test_semantic_check_missing_column_and_wrong_row_count(root):
    case = real_case(root, "semantic", "00001")
    expected = expected_of(case)
    passed, detail = suite.semantic_check(expected, expected.drop(columns="S2"), case.settings)
    assert not passed and "missing column" in detail and "S2" in detail
    passed, detail = suite.semantic_check(expected, expected.iloc[:-1], case.settings)
    assert not passed and "wrong row count" in detail and "50 rows, expected 51" in detail
    shifted = expected.copy()
    shifted.index = pd.Index(shifted.index + 0.01, name="time")
    passed, detail = suite.semantic_check(expected, shifted, case.settings)
    assert not passed and "time points differ" in detail


# --- stochastic scoring ---------------------------------------------------------------------------

N = 10_000


def synthetic_ensemble(seed=20240611, times=11):
    """Normal samples at each time; the first time is deterministic (sigma 0).

    With 10 random times a correct ensemble fails the DSMTS ranges by chance for about 3% of
    seeds (as the DSMTS user guide warns); this seed is fixed, so the test is deterministic.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(times, dtype=float)
    mu = 10.0 + 4.0 * t
    sigma = np.where(t == 0, 0.0, 1.0 + 0.5 * t)
    samples = mu + sigma * rng.standard_normal((N, times))
    index = pd.Index(t, name="time")
    expected_mean = pd.DataFrame({"X": mu}, index=index)
    expected_sd = pd.DataFrame({"X": sigma}, index=index)
    actual_mean = pd.DataFrame({"X": samples.mean(axis=0)}, index=index)
    actual_sd = pd.DataFrame({"X": samples.std(axis=0, ddof=1)}, index=index)
    return expected_mean, expected_sd, actual_mean, actual_sd


DSMTS = suite.Settings(variables=["X"], output=["X-mean", "X-sd"], mean_range=(-3.0, 3.0), sd_range=(-5.0, 5.0))


def test_stochastic_check_passes_a_correct_ensemble():
    passed, detail = suite.stochastic_check(*synthetic_ensemble(), N, DSMTS)
    assert passed, detail
    assert "max |Z|" in detail and "max |Y|" in detail


def test_stochastic_check_fails_a_mean_shifted_by_six_standard_errors():
    expected_mean, expected_sd, actual_mean, actual_sd = synthetic_ensemble()
    t = 5
    actual_mean.iloc[t, 0] += 6 * expected_sd.iloc[t, 0] / np.sqrt(N)
    passed, detail = suite.stochastic_check(expected_mean, expected_sd, actual_mean, actual_sd, N, DSMTS)
    assert not passed
    assert "Z outside [-3, 3] at 1 point(s)" in detail and "X at t=5" in detail


def test_stochastic_check_allows_as_many_scores_out_of_range_as_chance_does():
    """A few |Z| just past 3 among many scores happen to correct simulators; more do not."""
    expected_mean, expected_sd, actual_mean, actual_sd = synthetic_ensemble()
    n_scores = int((expected_sd.iloc[:, 0] > 0).sum())
    allowed = suite.chance_allowance(n_scores, -3.0, 3.0)
    assert allowed >= 1
    nudged = actual_mean.copy()
    se = expected_sd.iloc[:, 0] / np.sqrt(N)
    rows = [r for r in range(len(nudged)) if se.iloc[r] > 0][: allowed + 1]
    for r in rows[:allowed]:
        nudged.iloc[r, 0] = expected_mean.iloc[r, 0] + 3.2 * se.iloc[r]
    assert suite.stochastic_check(expected_mean, expected_sd, nudged, actual_sd, N, DSMTS)[0]
    nudged.iloc[rows[allowed], 0] = expected_mean.iloc[rows[allowed], 0] + 3.2 * se.iloc[rows[allowed]]
    assert not suite.stochastic_check(expected_mean, expected_sd, nudged, actual_sd, N, DSMTS)[0]


def test_stochastic_check_fails_a_wrong_spread_and_a_wrong_deterministic_value():
    expected_mean, expected_sd, actual_mean, actual_sd = synthetic_ensemble()
    wide = actual_sd * 1.1  # Y = sqrt(n/2) (1.21 - 1) ~ 15
    passed, detail = suite.stochastic_check(expected_mean, expected_sd, actual_mean, wide, N, DSMTS)
    assert not passed and "Y outside [-5, 5]" in detail
    off = actual_mean.copy()
    off.iloc[0, 0] += 1e-9  # sigma is 0 at t=0: the mean must match within 1e-12
    passed, detail = suite.stochastic_check(expected_mean, expected_sd, off, actual_sd, N, DSMTS)
    assert not passed and "X at t=0" in detail and "expected sd 0" in detail


def test_stochastic_check_missing_columns_and_rows():
    expected_mean, expected_sd, actual_mean, actual_sd = synthetic_ensemble()
    renamed = actual_mean.rename(columns={"X": "Y"})
    passed, detail = suite.stochastic_check(expected_mean, expected_sd, renamed, actual_sd, N, DSMTS)
    assert not passed and "missing column" in detail and "X" in detail
    passed, detail = suite.stochastic_check(expected_mean, expected_sd, actual_mean.iloc[:-1], actual_sd, N, DSMTS)
    assert not passed and "wrong row count" in detail
    # without an expected sd the mean is scored by the self-normalised sum, and Y not at all
    no_sd = expected_sd.drop(columns="X")
    passed, detail = suite.stochastic_check(expected_mean, no_sd, actual_mean, actual_sd, N, DSMTS)
    assert passed, detail
    passed, detail = suite.stochastic_check(expected_mean, no_sd, actual_mean + 1.0, actual_sd, N, DSMTS)
    assert not passed and "Z outside" in detail


def exponential_ensemble(spread=1.0, seed=7, times=50):
    """Exponential draws (kurtosis 9: Y has standard deviation 2) at each time, and moments."""
    samples = spread * np.random.default_rng(seed).exponential(size=(N, times))
    index = pd.Index(np.arange(1.0, times + 1), name="time")
    ones = np.ones(times)
    deviation = samples - samples.mean(axis=0)
    kurtosis = (deviation**4).mean(axis=0) / (deviation**2).mean(axis=0) ** 2
    return (
        pd.DataFrame({"X": ones}, index=index),
        pd.DataFrame({"X": ones}, index=index),
        pd.DataFrame({"X": samples.mean(axis=0)}, index=index),
        pd.DataFrame({"X": samples.std(axis=0, ddof=1)}, index=index),
        pd.DataFrame({"X": kurtosis}, index=index),
    )


def test_the_y_allowance_scales_with_the_kurtosis_of_the_draws():
    """Y of heavy-tailed draws is wider than normal: a correct sampler passes on its own scale,
    a variance 10% too large (Y ~ 7 standard deviations of its own) still fails."""
    settings = suite.Settings(variables=["X"], output=["X-mean", "X-sd"], mean_range=(-3, 3), sd_range=(-3, 3))
    expected_mean, expected_sd, mean, sd, kurtosis = exponential_ensemble()
    y = np.sqrt(N / 2) * (sd.iloc[:, 0] ** 2 - 1)
    n_out = int((y.abs() > 3).sum())
    assert n_out > suite.chance_allowance(50, -3, 3)  # too many for normal-data ranges ...
    assert not suite.stochastic_check(expected_mean, expected_sd, mean, sd, N, settings)[0]
    passed, detail = suite.stochastic_check(expected_mean, expected_sd, mean, sd, N, settings, kurtosis)
    assert passed, detail  # ... and as many as chance allows on the draws' own scale
    assert f"{n_out} of 50 Y" in detail
    np.testing.assert_allclose(suite.y_scale(kurtosis.iloc[:, 0]), 2.0, rtol=0.3)
    *frames, kurtosis = exponential_ensemble(spread=np.sqrt(1.1))
    passed, detail = suite.stochastic_check(*frames, N, settings, kurtosis)
    assert not passed and "Y outside [-3, 3]" in detail


def test_chance_allowance_is_the_binomial_tail_for_standard_normal_scores():
    p = 2 * NormalDist().cdf(-3.0)
    for n in (10, 50, 150):
        allowed = suite.chance_allowance(n, -3.0, 3.0)
        tail = [1 - sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1)) for k in range(n)]
        assert allowed == next(k for k in range(n) if tail[k] <= suite.CHANCE_LEVEL)
    assert suite.chance_allowance(150, -3.0, 3.0) == 3
    assert suite.chance_allowance(50, -3.0, 3.0, scales=[0.0] * 50) == 0  # deterministic scores


def test_the_truncated_normal_cases_give_the_variance_as_their_sd(root):
    """docs/sbml.md: 00070 and 00099 list normal(0, 1.5) truncated above 0.5 with the exact mean
    and, as its "sd", the variance; the runner scores them as given (their Y are biased)."""
    truncated = sps.truncnorm(-np.inf, 0.5 / 1.5, scale=1.5)
    for case in suite.find_cases(root, "stochastic", ids=[70, 99]):
        mean, sd = suite.read_stochastic_results(case)
        assert mean["X"].iloc[-1] == pytest.approx(truncated.mean(), abs=1e-9)
        assert sd["X"].iloc[-1] == pytest.approx(truncated.var(), abs=1e-6)
        assert abs(sd["X"].iloc[-1] - truncated.std()) > 2e-3


def test_stochastic_check_passes_every_suite_case_against_itself(root):
    for case in suite.find_cases(root, "stochastic"):
        mean, sd = suite.read_stochastic_results(case)
        if list(sd.columns) != list(mean.columns):
            continue  # the Cauchy cases: no sd
        passed, detail = suite.stochastic_check(mean, sd, mean, sd, N, case.settings)
        assert passed, (case.id, detail)


# --- run_case -------------------------------------------------------------------------------------


class UnrelatedUnsupportedSBMLError(Exception):
    pass


UnrelatedUnsupportedSBMLError.__name__ = "UnsupportedSBMLError"  # matched by class name, too


@pytest.fixture
def synthetic(tmp_path) -> suite.Case:
    write_case(tmp_path)
    (case,) = suite.find_cases(tmp_path, "semantic")
    return case


def test_run_case_passes_and_fails(synthetic):
    expected = expected_of(synthetic)
    result = suite.run_case(synthetic, lambda case: expected.reset_index(drop=True))
    assert result.status == "pass", result.detail
    assert result.case_id == "00001" and result.kind == "semantic" and result.test_type == "TimeCourse"
    assert result.tags == ["Compartment", "Species", "Reaction", "Amount"]
    assert result.seconds >= 0
    result = suite.run_case(synthetic, lambda case: expected * 1.1)
    assert result.status == "fail" and "out of tolerance" in result.detail


def test_run_case_maps_exceptions_to_statuses(synthetic):
    def unsupported(case):
        raise UnsupportedSBMLError("csymbol delay", "in the rate of R1")

    def by_name(case):
        raise UnrelatedUnsupportedSBMLError("package comp")

    def broken(case):
        raise RuntimeError("boom")

    result = suite.run_case(synthetic, unsupported)
    assert (result.status, result.reason) == ("unsupported", "csymbol delay")
    result = suite.run_case(synthetic, by_name)
    assert (result.status, result.detail) == ("unsupported", "package comp")
    result = suite.run_case(synthetic, broken)
    assert (result.status, result.detail) == ("error", "RuntimeError: boom")
    result = suite.run_case(synthetic, lambda case: "not a frame")
    assert result.status == "error" and result.detail.startswith("AttributeError")


def test_run_case_declines_test_types_it_cannot_score(root):
    calls = []
    case = real_case(root, "semantic", "01186")
    result = suite.run_case(case, calls.append)
    assert (result.status, result.detail) == ("unsupported", "testType FluxBalanceSteadyState")
    assert calls == []  # not even simulated


def test_run_case_scores_stochastic_cases(root):
    case = real_case(root, "stochastic", "00001")
    mean, sd = suite.read_stochastic_results(case)
    assert suite.run_case(case, None).status == "unsupported"  # no stochastic simulator
    runs = []

    def fake(case, n_runs):
        runs.append(n_runs)
        return mean.reset_index(drop=True), sd.reset_index(drop=True)

    result = suite.run_case(case, None, fake, n_runs=1000)
    assert result.status == "pass", result.detail
    assert result.kind == "stochastic" and runs == [1000]
    result = suite.run_case(case, None, lambda case, n: (mean + 1.0, sd), n_runs=1000)
    assert result.status == "fail" and "Z outside" in result.detail
    # a case with an expected mean and no sd (Cauchy: the median) gets the self-normalised score
    cauchy = real_case(root, "stochastic", "00049")
    median, _ = suite.read_stochastic_results(cauchy)
    draws = sps.cauchy(1.0, 2.0).rvs(size=(10_000, len(median)), random_state=np.random.default_rng(3))
    draws[:, 0] = 0.0  # time 0: before the first draw
    sample_sd = pd.DataFrame({"X": draws.std(axis=0, ddof=1)}, index=median.index)
    centred = pd.DataFrame({"X": draws.mean(axis=0)}, index=median.index)
    result = suite.run_case(cauchy, None, lambda case, n: (centred, sample_sd), n_runs=10_000)
    assert result.status == "pass", result.detail
    shifted = draws + 0.2  # a median off by a tenth of the scale
    result = suite.run_case(
        cauchy,
        None,
        lambda case, n: (
            pd.DataFrame({"X": shifted.mean(axis=0)}, index=median.index),
            pd.DataFrame({"X": shifted.std(axis=0, ddof=1)}, index=median.index),
        ),
        n_runs=10_000,
    )
    assert result.status == "fail" and "Z outside" in result.detail


# --- run_suite ------------------------------------------------------------------------------------


def test_run_suite_in_processes_with_a_timeout(tmp_path):
    for case_id in ("00001", "00002", "00003", "00004"):
        write_case(tmp_path, case_id)
    cases = suite.find_cases(tmp_path, "semantic")
    expected = expected_of(cases[0])

    def simulate(case):  # a closure: fine with fork
        if case.id == "00002":
            time.sleep(30)
        if case.id == "00003":
            os._exit(3)
        if case.id == "00004":
            raise UnsupportedSBMLError("AlgebraicRule")
        return expected

    seen = []
    start = time.monotonic()
    results = suite.run_suite(cases, simulate, processes=3, timeout=1.0, on_result=seen.append)
    assert time.monotonic() - start < 15
    assert [r.case_id for r in results] == ["00001", "00002", "00003", "00004"]
    assert [r.status for r in results] == ["pass", "error", "error", "unsupported"]
    assert results[1].detail.startswith("timeout")
    assert "exited with code 3" in results[2].detail
    assert results[3].detail == "AlgebraicRule"
    assert sorted(r.case_id for r in seen) == ["00001", "00002", "00003", "00004"]


def test_run_suite_in_process_keeps_the_order(tmp_path):
    for case_id in ("00005", "00001"):
        write_case(tmp_path, case_id)
    cases = suite.find_cases(tmp_path, "semantic")
    expected = expected_of(cases[0])
    results = suite.run_suite(cases, lambda case: expected)
    assert [(r.case_id, r.status) for r in results] == [("00001", "pass"), ("00005", "pass")]


# --- report and summary ---------------------------------------------------------------------------


def some_results() -> list[suite.CaseResult]:
    def result(case_id, status, detail="", component=("Species",), test=("Amount",), kind="semantic"):
        return suite.CaseResult(case_id, kind, status, detail, list(component), list(test), 0.5, "TimeCourse")

    return [
        result("00001", "pass"),
        result("00002", "fail", "S1 at t=2: expected 1, got 2", component=("Species", "RateRule")),
        result("00003", "unsupported", "AlgebraicRule", component=("AlgebraicRule",)),
        result("00004", "unsupported", "AlgebraicRule", component=("AlgebraicRule",)),
        result("00005", "error", "RuntimeError: boom", test=("Concentration",)),
        result("00001", "pass", kind="stochastic"),
    ]


def test_report_lists_pass_rates_tags_and_cases():
    text = suite.report(some_results())
    assert "| semantic | 1 | 5 | 20.0% | 1 | 2 | 1 | 33.3% |" in text
    assert "| stochastic | 1 | 1 | 100.0% | 0 | 0 | 0 | 100.0% |" in text
    assert "## By component tag" in text and "## By test tag" in text
    assert "| AlgebraicRule | 2 | 0 | 0 | 2 | 0 | 0.0% |" in text
    assert "| Species | 4 | 2 | 1 | 0 | 1 | 50.0% |" in text
    assert "| Concentration | 1 | 0 | 0 | 0 | 1 | 0.0% |" in text
    assert "`semantic/00002` (TimeCourse): S1 at t=2: expected 1, got 2" in text
    assert "RuntimeError: boom" in text
    assert "- **AlgebraicRule** (2): semantic/00003, semantic/00004" in text


def test_summary_is_json_able():
    data = suite.summary(some_results())
    assert json.loads(json.dumps(data)) == data
    assert data["by_kind"]["semantic"]["pass"] == 1 and data["by_kind"]["semantic"]["pass_percent"] == 20.0
    assert data["by_test_tag"]["Amount"]["total"] == 5
    assert data["unsupported"] == {"AlgebraicRule": ["semantic/00003", "semantic/00004"]}
    assert data["failed"] == {"semantic/00002": "S1 at t=2: expected 1, got 2"}
    assert len(data["cases"]) == 6
    assert "No cases" in suite.report([])


# --- command line ---------------------------------------------------------------------------------


def test_parse_case_ids():
    assert suite.parse_case_ids("1-3,205, 7,2") == [1, 2, 3, 7, 205]
    for bad in ("5-1", "a", "1-x"):
        with pytest.raises(ValueError):
            suite.parse_case_ids(bad)


def test_main_runs_a_suite_and_writes_the_report(tmp_path, monkeypatch, capsys):
    base = tmp_path / "suite"
    write_case(base, "00001")
    write_case(base, "00002")
    write_case(base, "00003", test_type="FluxBalanceSteadyState")
    expected = suite.read_results(base / "semantic" / "00001" / "00001-results.csv")

    def simulate(case):
        if case.id == "00002":
            raise UnsupportedSBMLError("EventPriority")
        return expected

    monkeypatch.setattr(suite, "_default_simulators", lambda: (simulate, None))
    report_file, json_file = tmp_path / "out.md", tmp_path / "out.json"
    argv = ["--suite", str(base), "--cases", "1-2,3", "--report", str(report_file), "--json", str(json_file)]
    assert suite.main(argv) == 0
    text = report_file.read_text()
    assert "| semantic | 1 | 3 |" in text and "**EventPriority** (1): 00002" in text
    assert "**testType FluxBalanceSteadyState** (1): 00003" in text
    assert json.loads(json_file.read_text())["by_kind"]["semantic"]["unsupported"] == 2
    assert "00001 pass" in capsys.readouterr().err

    monkeypatch.setattr(suite, "_default_simulators", lambda: (lambda case: expected * 2, None))
    assert suite.main(["--suite", str(base), "--cases", "1", "--quiet"]) == 1  # a failure
    assert "## Failed cases (1)" in capsys.readouterr().out
    assert suite.main(["--suite", str(tmp_path / "nowhere")]) == 2
    assert suite.main(["--suite", str(base), "--cases", "99"]) == 2
