"""The SBML Test Suite, with its own pass criteria: every case passes or is reported unsupported.

Reads the suite in place at ``../shared/sbml-test-suite`` (or ``$WORKBENCH_SBML_SUITE``) and
skips when it is absent. The report of the run (pass rates by tag, every unsupported case and
why) is written to ``test-artifacts/sbml-suite.md``; ``python -m workbench.sbml.suite`` makes
the same report by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.sbml.reader import simulate_case, simulate_stochastic_case
from workbench.sbml.suite import default_suite_path, find_cases, report, run_suite, summary

SUITE = default_suite_path()
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SUITE.is_dir(), reason=f"the SBML Test Suite is not at {SUITE}"),
]

#: Cases left out of the CI run, with the reason (they run with the report script).
SLOW = {
    "00966": "over 100,000 event executions in 1000 time units (the event guard stops it)",
}
#: Stochastic cases left out of the CI run (they pass in the report script's run).
SLOW_STOCHASTIC = {
    "00005": "the birth-death of 00001 (and 00004, 10x) at 100x the molecules: 830 million SSA reactions, 55 s",
}
#: Tags of cases left out of the CI run: chi-square tests of random event order over
#: thousands of events, 30 s for the 14 (11 pass and 2 are unsupported in the report script's run).
SLOW_TAGS = {"RandomEventExecution"}
#: The distrib cases CI runs (7 s each): normal, uniform, exponential, gamma, poisson, cauchy,
#: chisquare, rayleigh, laplace, lognormal (as ln X), binomial; truncated cauchy, exponential,
#: gamma, normal and poisson (all 49 pass in the report script's run: docs/sbml.md).
DISTRIB_IN_CI = {
    "00040", "00042", "00044", "00045", "00047", "00049", "00050", "00052", "00054", "00056", "00057", "00059",
    "00061", "00062", "00065", "00074",
}  # fmt: skip
#: The pass rate of all semantic cases may not fall below this (the issue's target is 80%).
SEMANTIC_FLOOR = 0.85
#: Tags not declared supported: packages, delays, fast reactions, and two partly supported
#: ones (algebraic rules linear in one unknown; rateOf of anything but a rule-set value).
NOT_DECLARED = {"CSymbolDelay", "FastReaction", "AlgebraicRule", "CSymbolRateOf"}


def declared_supported(case) -> bool:
    """A time-course case all of whose tags we declare supported."""
    tags = set(case.component_tags) | set(case.test_tags)
    packages = any(tag.startswith(("comp:", "fbc:")) for tag in tags)
    return case.test_type == "TimeCourse" and not packages and not tags & NOT_DECLARED


def _write(name: str, results) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(report(results))


def test_semantic_cases_pass_or_are_reported_unsupported():
    everything = find_cases(SUITE, "semantic")
    cases = [c for c in everything if c.id not in SLOW and not SLOW_TAGS & set(c.test_tags)]
    results = run_suite(cases, simulate_case, processes=2, timeout=120.0)
    _write("sbml-suite-semantic.md", results)
    wrong = [f"{r.case_id} {r.status}: {r.detail}" for r in results if r.status in ("fail", "error")]
    assert not wrong, "\n".join(wrong)
    declared = {c.id for c in cases if declared_supported(c)}
    refused = [f"{r.case_id}: {r.detail}" for r in results if r.case_id in declared and r.status != "pass"]
    assert not refused, "cases whose tags are declared supported must pass:\n" + "\n".join(refused)
    counts = summary(results)
    passed = sum(r.status == "pass" for r in results)
    assert passed / len(everything) >= SEMANTIC_FLOOR, counts  # left-out cases count as not passing


def test_stochastic_cases_pass_or_are_reported_unsupported():
    cases = find_cases(SUITE, "stochastic")
    time_courses = [c for c in cases if c.test_type != "StatisticalDistribution" and c.id not in SLOW_STOCHASTIC]
    # the DSMTS's 10,000 runs (its ranges allow for the skew of batch-arrival models there),
    # events at set times included
    results = run_suite(time_courses, None, simulate_stochastic_case, n_runs=10_000, processes=2, timeout=120.0)
    # the distrib cases' draws: one case per distribution (and truncation, parameters read from
    # the model, ln of the value) at 10,000 runs; all 49 pass in the report script's run
    draws = [c for c in cases if c.test_type == "StatisticalDistribution" and c.id in DISTRIB_IN_CI]
    drawn = run_suite(draws, None, simulate_stochastic_case, n_runs=10_000, processes=2, timeout=120.0)
    _write("sbml-suite-stochastic.md", results + drawn)
    wrong = [f"{r.case_id} {r.status}: {r.detail}" for r in results + drawn if r.status in ("fail", "error")]
    assert not wrong, "\n".join(wrong)
    assert len(drawn) == len(DISTRIB_IN_CI)
    refused = [f"{r.case_id}: {r.detail}" for r in results + drawn if r.status != "pass"]
    assert not refused, "every DSMTS time course and distrib case must pass:\n" + "\n".join(refused)
