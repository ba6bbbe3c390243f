"""Run the SBML Test Suite against workbench's SBML importer and score the results.

The suite (sbmlteam/sbml-test-suite) holds one folder per case, ``semantic/NNNNN/`` for
deterministic time courses and ``stochastic/NNNNN/`` for discrete stochastic ones:

- ``NNNNN-model.m``: a description whose header lines give ``componentTags``, ``testTags``
  and ``testType``;
- ``NNNNN-settings.txt``: ``start``, ``duration``, ``steps``, ``variables``, ``absolute``,
  ``relative``, ``amount``, ``concentration`` and, for stochastic cases, ``output``,
  ``meanRange`` and ``sdRange``;
- ``NNNNN-results.csv``: the expected results (a ``time`` column, then one column per
  variable; stochastic cases have ``X-mean`` and ``X-sd`` columns instead, and the DSMTS
  cases also the original ``dsmts-YYY-ZZ-mean.csv`` / ``dsmts-YYY-ZZ-sd.csv``);
- ``NNNNN-sbml-l3v2.xml`` (or ``NNNNN-sbml-l3v1.xml`` where there is no l3v2): the model.

:func:`find_cases` lists the cases, :func:`run_case` / :func:`run_suite` simulate them with a
caller-supplied function and score them (:func:`semantic_check`, :func:`stochastic_check`),
and :func:`report` / :func:`summary` tabulate the outcome. ``python -m workbench.sbml.suite``
runs the suite with workbench's own importer.

The suite's location defaults to ``../shared/sbml-test-suite`` next to the project root; the
environment variable ``WORKBENCH_SBML_SUITE`` or the CLI option ``--suite`` override it.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import multiprocessing as mp
import os
import re
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for_connections
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import UnsupportedSBMLError

__all__ = [
    "Case",
    "CaseResult",
    "Settings",
    "default_suite_path",
    "find_cases",
    "main",
    "parse_case_ids",
    "read_results",
    "read_settings",
    "read_stochastic_results",
    "report",
    "run_case",
    "run_suite",
    "semantic_check",
    "stochastic_check",
    "summary",
]

#: environment variable naming the suite's root folder (the one holding ``semantic/``)
SUITE_ENV = "WORKBENCH_SBML_SUITE"
#: the suite next to the project root: ``<project>/../shared/sbml-test-suite``
DEFAULT_SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "sbml-test-suite"

Kind = Literal["semantic", "stochastic"]
Status = Literal["pass", "fail", "unsupported", "error"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "unsupported", "error")
KINDS: tuple[Kind, ...] = ("semantic", "stochastic")
#: the test types a semantic or stochastic simulation can be scored on
SEMANTIC_TYPES = frozenset({"TimeCourse"})
STOCHASTIC_TYPES = frozenset({"StochasticTimeCourse", "StatisticalDistribution"})

#: where the expected standard deviation is zero, the mean must match within this
ZERO_SD_ATOL = 1e-12

Simulate = Callable[["Case"], pd.DataFrame]
#: ``(mean, sd)`` or ``(mean, sd, kurtosis)`` frames of an ensemble (see :func:`run_case`)
StochasticSimulate = Callable[["Case", int], tuple[pd.DataFrame, ...]]


def default_suite_path() -> Path:
    """The suite's root folder: ``$WORKBENCH_SBML_SUITE`` if set, else :data:`DEFAULT_SUITE`.

    Returns
    -------
    pathlib.Path
        The folder holding ``semantic/`` and ``stochastic/`` (it may not exist).
    """
    env = os.environ.get(SUITE_ENV, "").strip()
    return Path(env).expanduser() if env else DEFAULT_SUITE


# --- settings and cases ----------------------------------------------------------------------


@dataclass
class Settings:
    """The simulation settings of one case (``NNNNN-settings.txt``).

    Attributes
    ----------
    start, duration : float or None
        The output's first time and its span (None for steady-state cases, e.g. flux balance).
    steps : int or None
        The number of output intervals: the output has ``steps + 1`` rows.
    variables : list of str
        The variables to report, in the order of the expected results' columns.
    absolute, relative : float or None
        The tolerances of a semantic case (None where the file leaves them empty, as every
        stochastic case does).
    amount, concentration : list of str
        The variables to report as amounts and as concentrations.
    output : list of str
        Stochastic cases: the columns of the results file, e.g. ``["X-mean", "X-sd"]``.
    mean_range, sd_range : tuple of float or None
        Stochastic cases: the ranges the Z and Y statistics must lie in (see
        :func:`stochastic_check`).
    extra : dict of str to str
        Any other ``key: value`` line, unparsed.
    """

    start: float | None = None
    duration: float | None = None
    steps: int | None = None
    variables: list[str] = field(default_factory=list)
    absolute: float | None = None
    relative: float | None = None
    amount: list[str] = field(default_factory=list)
    concentration: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    mean_range: tuple[float, float] | None = None
    sd_range: tuple[float, float] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def times(self) -> np.ndarray:
        """The output times ``start .. start + duration`` in ``steps`` equal intervals.

        Raises
        ------
        ValueError
            If the settings give no time course (start, duration or steps empty).
        """
        if self.start is None or self.duration is None or self.steps is None:
            raise ValueError("these settings describe no time course (start, duration or steps is empty)")
        return np.linspace(self.start, self.start + self.duration, self.steps + 1)

    @property
    def output_quantities(self) -> list[str]:
        """The quantities of a stochastic case's output, e.g. ``["X", "ln(X)"]``.

        ``output`` lists ``Q-mean`` / ``Q-sd`` columns; this is each ``Q`` once, in order (the
        variables when ``output`` is empty). A stochastic simulator reports these names.
        """
        names = [re.sub(r"-(mean|sd)$", "", column) for column in self.output] or list(self.variables)
        return list(dict.fromkeys(names))


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _float_or_none(value: str, key: str, path: Path) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{path}: {key}: {value!r} is not a number") from None


def _range_or_none(value: str, key: str, path: Path) -> tuple[float, float] | None:
    if not value:
        return None
    numbers = re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf", value, flags=re.IGNORECASE)
    if len(numbers) != 2:
        raise ValueError(f"{path}: {key}: {value!r} is not a range like (-3, 3)")
    low, high = (float(n) for n in numbers)
    return (low, high)


_SETTING_KEYS = {
    "start",
    "duration",
    "steps",
    "variables",
    "absolute",
    "relative",
    "amount",
    "concentration",
    "output",
    "meanrange",
    "sdrange",
}


def read_settings(path: str | os.PathLike[str]) -> Settings:
    """Read a case's ``NNNNN-settings.txt``.

    Parameters
    ----------
    path : path-like
        The settings file.

    Returns
    -------
    Settings
        Empty ``absolute:`` / ``relative:`` / ``start:`` ... become None; lists are split at
        commas and stripped.

    Raises
    ------
    ValueError
        If a number or a range does not parse (the message names the file and the key).
    """
    path = Path(path)
    raw: dict[str, str] = {}
    extra: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.match(r"\s*([A-Za-z_][\w ]*?)\s*:\s*(.*?)\s*$", line)
        if not match:
            continue
        key, value = match.group(1), match.group(2)
        if key.lower() in _SETTING_KEYS:
            raw.setdefault(key.lower(), value)
        else:
            extra[key] = value
    steps = _float_or_none(raw.get("steps", ""), "steps", path)
    if steps is not None and steps != int(steps):
        raise ValueError(f"{path}: steps: {steps!r} is not an integer")
    return Settings(
        start=_float_or_none(raw.get("start", ""), "start", path),
        duration=_float_or_none(raw.get("duration", ""), "duration", path),
        steps=None if steps is None else int(steps),
        variables=_split_list(raw.get("variables", "")),
        absolute=_float_or_none(raw.get("absolute", ""), "absolute", path),
        relative=_float_or_none(raw.get("relative", ""), "relative", path),
        amount=_split_list(raw.get("amount", "")),
        concentration=_split_list(raw.get("concentration", "")),
        output=_split_list(raw.get("output", "")),
        mean_range=_range_or_none(raw.get("meanrange", ""), "meanRange", path),
        sd_range=_range_or_none(raw.get("sdrange", ""), "sdRange", path),
        extra=extra,
    )


@dataclass
class Case:
    """One case of the suite.

    Attributes
    ----------
    id : str
        The five-digit case number, e.g. ``"00001"``.
    kind : {'semantic', 'stochastic'}
        The part of the suite.
    directory : pathlib.Path
        The case's folder.
    model : pathlib.Path or None
        The SBML file: Level 3 Version 2 if present, else Level 3 Version 1 (None if neither).
    settings : Settings
        The simulation settings.
    component_tags, test_tags : list of str
        The tags from ``NNNNN-model.m``.
    test_type : str
        E.g. ``"TimeCourse"``, ``"FluxBalanceSteadyState"``, ``"StochasticTimeCourse"`` or
        ``"StatisticalDistribution"`` (empty if the description gives none).
    synopsis : str
        The description's one-line synopsis.
    """

    id: str
    kind: Kind
    directory: Path
    model: Path | None
    settings: Settings
    component_tags: list[str] = field(default_factory=list)
    test_tags: list[str] = field(default_factory=list)
    test_type: str = ""
    synopsis: str = ""

    @property
    def results_path(self) -> Path:
        """The expected results, ``NNNNN-results.csv``."""
        return self.directory / f"{self.id}-results.csv"


_HEADER_KEYS = {
    "componenttags": "componentTags",
    "testtags": "testTags",
    "testtype": "testType",
    "synopsis": "synopsis",
}


def _read_description(path: Path) -> tuple[list[str], list[str], str, str]:
    """The component tags, test tags, test type and synopsis of a ``NNNNN-model.m``.

    Only the first occurrence of each key counts (00965 repeats an older header further down).
    A ``testType: X`` inside the test tags (a pasting slip in some versions of the suite) is
    no tag: it is dropped, and gives the test type if no ``testType:`` line does.
    """
    header: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = re.match(r"\s*(\w+)\s*:\s*(.*?)\s*$", line)
            if match and match.group(1).lower() in _HEADER_KEYS:
                header.setdefault(_HEADER_KEYS[match.group(1).lower()], match.group(2))
    test_type = header.get("testType", "").split()[0] if header.get("testType", "").split() else ""
    tags: dict[str, list[str]] = {}
    for key in ("componentTags", "testTags"):
        value = header.get(key, "")
        embedded = re.search(r"testType\s*:\s*(\w+)", value, flags=re.IGNORECASE)
        if embedded:
            test_type = test_type or embedded.group(1)
            value = value[: embedded.start()] + value[embedded.end() :]
        tags[key] = list(dict.fromkeys(_split_list(value)))
    return tags["componentTags"], tags["testTags"], test_type, header.get("synopsis", "")


def _normalise_ids(ids: Iterable[int | str]) -> set[str]:
    out = set()
    for item in ids:
        text = str(item).strip()
        if not text.isdigit():
            raise ValueError(f"case id {item!r} is not a number")
        out.add(f"{int(text):05d}")
    return out


def find_cases(
    root: str | os.PathLike[str] | None,
    kind: Literal["semantic", "stochastic", "all"] = "semantic",
    ids: Iterable[int | str] | None = None,
) -> list[Case]:
    """List the suite's cases.

    Parameters
    ----------
    root : path-like or None
        The suite's root folder (holding ``semantic/`` and ``stochastic/``); None for
        :func:`default_suite_path`.
    kind : {'semantic', 'stochastic', 'all'}
        The part of the suite (``'all'``: semantic, then stochastic).
    ids : iterable of int or str, optional
        Only these case numbers (``1``, ``"1"`` and ``"00001"`` are the same case).

    Returns
    -------
    list of Case
        Sorted by kind, then id. Folders without a settings file are skipped.

    Raises
    ------
    FileNotFoundError
        If the folder for ``kind`` does not exist.
    ValueError
        If ``kind`` is unknown or a settings file does not parse.
    """
    base = default_suite_path() if root is None else Path(root)
    if kind == "all":
        return [case for k in KINDS for case in find_cases(base, k, ids)]
    if kind not in KINDS:
        raise ValueError(f"kind must be 'semantic', 'stochastic' or 'all', not {kind!r}")
    folder = base / kind
    if not folder.is_dir():
        raise FileNotFoundError(f"no {kind} cases at {folder} (set {SUITE_ENV} or pass --suite)")
    wanted = None if ids is None else _normalise_ids(ids)
    cases = []
    for directory in sorted(folder.iterdir()):
        name = directory.name
        if not (directory.is_dir() and re.fullmatch(r"\d{5}", name)) or (wanted is not None and name not in wanted):
            continue
        settings_path = directory / f"{name}-settings.txt"
        if not settings_path.is_file():
            continue
        model = next(
            (p for p in (directory / f"{name}-sbml-l3v2.xml", directory / f"{name}-sbml-l3v1.xml") if p.is_file()),
            None,
        )
        component_tags, test_tags, test_type, synopsis = _read_description(directory / f"{name}-model.m")
        cases.append(
            Case(
                id=name,
                kind=kind,
                directory=directory,
                model=model,
                settings=read_settings(settings_path),
                component_tags=component_tags,
                test_tags=test_tags,
                test_type=test_type,
                synopsis=synopsis,
            )
        )
    return cases


# --- expected results ------------------------------------------------------------------------


def _is_time(name: object) -> bool:
    return isinstance(name, str) and name.strip().lower() == "time"


def read_results(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a results file of the suite.

    A first column named ``time`` (any case: many files write ``Time``) becomes the index,
    named ``time``; the other columns are the variables, named as written, stripped (00950
    writes ``time, P, Q, R``). Values parse as floats, ``INF``, ``-INF`` and ``NaN`` included,
    blanks around them skipped. Read positionally, not by name: 01820 has variables named
    ``time``, ``Time`` and ``TIME`` next to its time column ``Time``. Flux-balance cases have
    no time column and a single row (and a plain index).

    Parameters
    ----------
    path : path-like
        A ``NNNNN-results.csv`` (or a DSMTS ``-mean.csv`` / ``-sd.csv``).

    Returns
    -------
    pandas.DataFrame
        One float column per variable, indexed by ``time`` where the file has it.

    Raises
    ------
    ValueError
        If the file is empty, a row has the wrong number of cells or a cell is not a number.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [(n, row) for n, row in enumerate(csv.reader(handle), start=1) if any(c.strip() for c in row)]
    if not rows:
        raise ValueError(f"{path}: empty results file")
    header = [cell.strip() for cell in rows[0][1]]
    data = np.empty((len(rows) - 1, len(header)))
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ValueError(f"{path}, line {line}: {len(row)} cells, the header has {len(header)}")
        try:
            data[i] = [float(cell) for cell in row]
        except ValueError:
            raise ValueError(f"{path}, line {line}: a cell is not a number: {row}") from None
    if header and _is_time(header[0]):
        return pd.DataFrame(data[:, 1:], columns=header[1:], index=pd.Index(data[:, 0], name="time"))
    return pd.DataFrame(data, columns=header)


def read_stochastic_results(case: Case) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The expected means and standard deviations of a stochastic case.

    Every stochastic case has ``NNNNN-results.csv`` with columns ``time, Q-mean, ..., Q-sd,
    ...`` (in the multi-variable cases all means first, then all sds); the DSMTS cases
    (testType ``StochasticTimeCourse``) also keep the original ``dsmts-YYY-ZZ-mean.csv`` /
    ``dsmts-YYY-ZZ-sd.csv`` (``time`` or ``Time``, then one column per variable), read only
    when the results file has no ``-mean`` column. ``Q`` is a variable or, in the log-normal
    cases, ``ln(X)``; the Cauchy cases give a mean (the median) and no sd.

    Parameters
    ----------
    case : Case
        A stochastic case.

    Returns
    -------
    mean, sd : pandas.DataFrame
        One column per quantity ``Q``, indexed by ``time`` (``sd`` may lack some quantities).

    Raises
    ------
    FileNotFoundError
        If the case has neither a results file with ``-mean`` columns nor DSMTS files.
    """
    if case.results_path.is_file():
        frame = read_results(case.results_path)
        means = {c.removesuffix("-mean"): frame[c] for c in frame.columns if c.endswith("-mean")}
        sds = {c.removesuffix("-sd"): frame[c] for c in frame.columns if c.endswith("-sd")}
        if means:
            return pd.DataFrame(means, index=frame.index), pd.DataFrame(sds, index=frame.index)
    mean_files = sorted(case.directory.glob("*-mean.csv"))
    sd_files = sorted(case.directory.glob("*-sd.csv"))
    if not mean_files:
        raise FileNotFoundError(f"{case.directory}: no expected means (no -mean columns, no *-mean.csv)")
    mean = read_results(mean_files[0])
    sd = read_results(sd_files[0]) if sd_files else pd.DataFrame(index=mean.index)
    return mean, sd


# --- scoring ---------------------------------------------------------------------------------


def _split_time(frame: pd.DataFrame, names: Iterable[str] = ()) -> tuple[np.ndarray | None, pd.DataFrame]:
    """The times of a frame and its other columns.

    The times are the index if it is named ``time`` (any case), else a column ``time`` that
    is not one of ``names`` (the variables: a model may name a parameter ``time``).
    """
    if _is_time(frame.index.name):
        return frame.index.to_numpy(dtype=float), frame
    names = set(names)
    times = [c for c in frame.columns if _is_time(c) and c not in names]
    if times:
        return frame[times[0]].to_numpy(dtype=float), frame.drop(columns=times)
    return None, frame


def _where(times: np.ndarray | None, row: int) -> str:
    return f"t={times[row]:g}" if times is not None else f"row {row}"


def _times_differ(expected: np.ndarray | None, actual: np.ndarray | None) -> str:
    if expected is None or actual is None:
        return ""
    scale = max(1.0, float(np.nanmax(np.abs(expected)))) if len(expected) else 1.0
    close = np.isclose(actual, expected, rtol=1e-6, atol=1e-12 * scale)  # results print 7 digits
    if close.all():
        return ""
    row = int(np.argmin(close))
    return f"time points differ: row {row} is t={actual[row]:g}, expected t={expected[row]:g}"


def _columns(frame: pd.DataFrame, names: Sequence[str], what: str) -> tuple[dict[str, np.ndarray], str]:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        return {}, f"missing column(s) in {what}: {', '.join(missing)}"
    out = {}
    for name in names:
        try:
            out[name] = np.asarray(pd.to_numeric(frame[name]), dtype=float)
        except (TypeError, ValueError):
            return {}, f"column {name} of {what} is not numeric"
    return out, ""


def semantic_check(expected: pd.DataFrame, actual: pd.DataFrame, settings: Settings) -> tuple[bool, str]:
    r"""Score a deterministic simulation by the suite's criterion.

    For every variable ``v`` and every output time ``t``,

    .. math:: |a_{v,t} - e_{v,t}| \le \mathrm{absolute} + \mathrm{relative} \cdot |e_{v,t}|

    where ``e`` is the expected and ``a`` the simulated value. A non-finite expected value must
    be matched exactly: NaN by NaN, an infinity by the same infinity. A missing tolerance counts
    as zero.

    Parameters
    ----------
    expected : pandas.DataFrame
        The expected results (:func:`read_results`): the variables, indexed by time.
    actual : pandas.DataFrame
        The simulation: a column per variable (extra columns are ignored), one row per output
        time. Its times, if given (as an index named ``time``, or a column ``time`` that is no
        variable), must match the expected ones.
    settings : Settings
        The case's settings: the variables and the tolerances.

    Returns
    -------
    passed : bool
        Whether every value lies within tolerance.
    detail : str
        On failure: the number of values out of tolerance and the worst one (variable, time,
        expected and simulated value, difference and tolerance), or the missing columns or the
        wrong row count. On success: the largest ratio of difference to tolerance.
    """
    expected_times, expected_values = _split_time(expected, settings.variables)
    variables = list(settings.variables) or [str(c) for c in expected_values.columns]
    actual_times, actual_values = _split_time(actual, variables)
    n_rows = len(expected_values)
    if len(actual_values) != n_rows:
        span = f" (t={expected_times[0]:g}..{expected_times[-1]:g})" if expected_times is not None and n_rows else ""
        return False, f"wrong row count: {len(actual_values)} rows, expected {n_rows}{span}"
    expected_columns, problem = _columns(expected_values, variables, "the expected results")
    if problem:
        return False, problem
    actual_columns, problem = _columns(actual_values, variables, "the simulation output")
    if problem:
        return False, problem
    problem = _times_differ(expected_times, actual_times)
    if problem:
        return False, problem
    absolute = settings.absolute or 0.0
    relative = settings.relative or 0.0
    n_bad = 0
    bad_variables: list[str] = []
    worst: tuple[float, str, int] | None = None  # (difference / tolerance, variable, row)
    max_ratio = 0.0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for name in variables:
            e, a = expected_columns[name], actual_columns[name]
            tolerance = absolute + relative * np.abs(e)
            difference = np.abs(a - e)
            finite = np.isfinite(e)
            nonfinite_ok = (np.isnan(e) & np.isnan(a)) | (np.isinf(e) & (a == e))
            ok = np.where(finite, difference <= tolerance, nonfinite_ok)
            ratio = np.where(tolerance > 0, difference / tolerance, np.where(difference == 0, 0.0, np.inf))
            ratio = np.where(ok, np.where(finite, ratio, 0.0), np.where(finite & ~np.isnan(ratio), ratio, np.inf))
            if n_rows:
                max_ratio = max(max_ratio, float(np.max(ratio)))
            if not ok.all():
                n_bad += int(np.count_nonzero(~ok))
                bad_variables.append(name)
                row = int(np.argmax(np.where(ok, -1.0, ratio)))
                if worst is None or ratio[row] > worst[0]:
                    worst = (float(ratio[row]), name, row)
    if worst is None:
        return True, (
            f"{len(variables)} variable(s) x {n_rows} time(s) within tolerance "
            f"(absolute {absolute:g}, relative {relative:g}; max |diff|/tol {max_ratio:.3g})"
        )
    _, name, row = worst
    e, a = expected_columns[name][row], actual_columns[name][row]
    where = _where(expected_times, row)
    if not math.isfinite(e):
        why = "a non-finite expected value must be matched exactly"
    else:
        why = f"|diff| {abs(a - e):.3g} > tol {absolute + relative * abs(e):.3g}"
    listed = ", ".join(bad_variables[:8]) + (", ..." if len(bad_variables) > 8 else "")
    return False, (
        f"{n_bad} of {len(variables) * n_rows} value(s) out of tolerance in {listed}; "
        f"worst: {name} at {where}: expected {e:.10g}, got {a:.10g} ({why})"
    )


#: A case fails when more scores fall outside their range than this improbable by chance.
CHANCE_LEVEL = 1e-3


def chance_allowance(
    n_tests: int, low: float, high: float, level: float = CHANCE_LEVEL, scales: Sequence[float] | None = None
) -> int:
    """How many of ``n_tests`` normal scores may fall outside ``[low, high]`` by chance.

    The smallest ``k`` with ``P(N > k) <= level``, ``N`` the number of scores outside: a sum
    of independent Bernoulli variables whose probabilities are those of a score ``N(0, s²)``
    falling outside, ``s`` from ``scales`` (one per score; default 1, standard normal). With
    150 standard-normal scores and the range (-3, 3) (``p = 0.0027``) a correct simulator has
    one or more outside in a third of the cases, so requiring none would fail correct
    simulators; this allows 3.
    """
    normal = NormalDist()
    scales = [1.0] * n_tests if scales is None else list(scales)
    if len(scales) != n_tests:
        raise ValueError(f"{len(scales)} scales for {n_tests} scores")
    outside = [
        (normal.cdf(low / s) + 1.0 - normal.cdf(high / s)) if s > 0 else float(not low <= 0.0 <= high) for s in scales
    ]
    count = np.array([1.0])  # distribution of the number outside (Poisson-binomial)
    for p in outside:
        count = np.convolve(count, [1.0 - p, p])
    tails = 1.0 - np.cumsum(count)  # tails[k] = P(N > k)
    return int(np.flatnonzero(tails <= level)[0]) if n_tests else 0


def y_scale(kurtosis: np.ndarray | float) -> np.ndarray:
    """Standard deviation of the DSMTS ``Y`` score for data of the given kurtosis.

    ``sqrt(n/2) (S² / σ² - 1)`` is asymptotically normal with variance ``(κ - 1) / 2``
    (``κ = E(X - μ)⁴ / σ⁴``): 1 for normal data, more for heavy tails (a Poisson of mean 1.5
    truncated to [2, 18], κ = 5.76: 1.54), less for light ones.
    """
    return np.sqrt(np.maximum((np.asarray(kurtosis, dtype=float) - 1.0) / 2.0, 0.0))


def stochastic_check(
    expected_mean: pd.DataFrame,
    expected_sd: pd.DataFrame,
    actual_mean: pd.DataFrame,
    actual_sd: pd.DataFrame,
    n_runs: int,
    settings: Settings,
    actual_kurtosis: pd.DataFrame | None = None,
) -> tuple[bool, str]:
    r"""Score an ensemble of stochastic simulations by the DSMTS criteria.

    With ``n`` runs, the ensemble mean :math:`\bar X_t` and sample standard deviation
    :math:`S_t` of each quantity at each output time ``t`` are compared with the expected mean
    :math:`\mu_t` and standard deviation :math:`\sigma_t` through

    .. math::

        Z_t = \sqrt{n}\,\frac{\bar X_t - \mu_t}{\sigma_t}, \qquad
        Y_t = \sqrt{n/2}\,\left(\frac{S_t^2}{\sigma_t^2} - 1\right).

    For a correct simulator :math:`Z_t` is approximately standard normal and :math:`Y_t`
    approximately normal with mean 0 (variance depending on the kurtosis), so the case passes
    if :math:`Z_t` lies in ``meanRange`` (default (-3, 3)) and :math:`Y_t` in ``sdRange``
    (default (-5, 5)) at every time with :math:`\sigma_t > 0`; where :math:`\sigma_t = 0`
    the quantity is deterministic and the mean must equal :math:`\mu_t` within 1e-12. The
    bounds are inclusive. As the DSMTS user guide notes, a correct simulator still has a few
    scores out of range by chance, so as many as :func:`chance_allowance` allows (at level
    :data:`CHANCE_LEVEL`, from the number of scores) still pass, unless one lies beyond what
    the largest of that many scores reaches at that level (about 4.5 for 150 scores); a NaN or
    a deterministic mismatch never passes.

    The ``Y`` ranges assume normal data. For others ``Y``'s standard deviation is
    :func:`y_scale` of the kurtosis, so with ``actual_kurtosis`` given the chance allowance
    and the extreme bound for ``Y`` use each score's own scale (scores inside the suite's
    range still pass as they are): a correct sampler of a heavy-tailed distribution is not
    failed by chance, while a wrong variance still is (its ``Y`` grows with ``sqrt(n)``).

    Reference: T. W. Evans, C. S. Gillespie, D. J. Wilkinson, "The SBML discrete stochastic
    models test suite", *Bioinformatics* 24(2):285-286, 2008.

    Parameters
    ----------
    expected_mean, expected_sd : pandas.DataFrame
        The expected :math:`\mu_t` and :math:`\sigma_t` (:func:`read_stochastic_results`):
        one column per quantity, indexed by time.
    actual_mean, actual_sd : pandas.DataFrame
        The ensemble mean and sample standard deviation (``ddof=1``), same columns, one row
        per output time (times, if given, as for :func:`semantic_check`).
    n_runs : int
        The ensemble size ``n``.
    settings : Settings
        The case's settings (``mean_range``, ``sd_range``).
    actual_kurtosis : pandas.DataFrame, optional
        The ensemble's kurtosis ``m4 / m2²`` (same layout); NaN where the runs agree.

    Returns
    -------
    passed : bool
        Whether every statistic lies in its range.
    detail : str
        The number of times out of range and the worst (quantity, time, statistic, means and
        standard deviations), or the missing columns; on success the largest ``|Z|`` and
        ``|Y|``.
    """
    if n_runs < 2:
        return False, f"n_runs must be at least 2, not {n_runs}"
    mean_low, mean_high = settings.mean_range or (-3.0, 3.0)
    sd_low, sd_high = settings.sd_range or (-5.0, 5.0)
    times, mu_frame = _split_time(expected_mean)
    quantities = [str(c) for c in mu_frame.columns]
    _, sigma_frame = _split_time(expected_sd, quantities)
    actual_times, mean_frame = _split_time(actual_mean, quantities)
    _, sd_frame = _split_time(actual_sd, quantities)
    no_sd = [q for q in quantities if q not in sigma_frame.columns]
    sigma_frame = sigma_frame.assign(**{q: np.nan for q in no_sd})
    n_rows = len(mu_frame)
    for what, frame in (("ensemble mean", mean_frame), ("ensemble sd", sd_frame)):
        if len(frame) != n_rows:
            return False, f"wrong row count in the {what}: {len(frame)} rows, expected {n_rows}"
    columns = []
    for frame, what in (
        (mu_frame, "the expected means"),
        (sigma_frame, "the expected sds"),
        (mean_frame, "the ensemble mean"),
        (sd_frame, "the ensemble sd"),
    ):
        values, problem = _columns(frame, quantities, what)
        if problem:
            return False, problem
        columns.append(values)
    mu, sigma, mean, sd = columns
    if actual_kurtosis is None:
        scale = {q: np.ones(n_rows) for q in quantities}
    else:
        _, kurtosis_frame = _split_time(actual_kurtosis, quantities)
        kurtosis, problem = _columns(kurtosis_frame, quantities, "the ensemble kurtosis")
        if problem:
            return False, problem
        scale = {q: np.nan_to_num(y_scale(kurtosis[q]), nan=1.0) for q in quantities}
    problem = _times_differ(times, actual_times)
    if problem:
        return False, problem
    root_n, root_half_n = math.sqrt(n_runs), math.sqrt(n_runs / 2)
    bad_z = bad_y = 0
    tested_z = tested_y = hard = 0  # hard: a deterministic mismatch or a NaN, never by chance
    worst_z: tuple[float, str, int, float] | None = None  # (distance out of range, quantity, row, Z)
    worst_y: tuple[float, str, int, float] | None = None
    max_z: tuple[float, str, int] = (-1.0, "", 0)  # (|Z|, quantity, row), over the times with sigma > 0
    max_y: tuple[float, str, int] = (-1.0, "", 0)
    y_scales: list[float] = []  # of the Y scores tested
    worst_standard_y = 0.0  # largest |Y| / scale among those out of range
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for q in quantities:
            if q in no_sd:  # the self-normalised score (see the docstring); no Y
                d = mean[q] - mu[q]
                spread = (n_runs - 1) * sd[q] ** 2 + n_runs * d**2
                positive = spread > 0
                zero = spread == 0
                z = np.where(positive, n_runs * d / np.sqrt(spread), np.nan)
                y = np.full(n_rows, np.nan)
                z_ok = np.where(positive, (z >= mean_low) & (z <= mean_high), zero)
                y_tested = np.zeros(n_rows, dtype=bool)
                y_ok = ~y_tested
            else:
                positive = sigma[q] > 0
                zero = sigma[q] == 0
                z = np.where(positive, root_n * (mean[q] - mu[q]) / sigma[q], np.nan)
                y = np.where(positive, root_half_n * (sd[q] ** 2 / sigma[q] ** 2 - 1.0), np.nan)
                z_ok = np.where(
                    positive, (z >= mean_low) & (z <= mean_high), zero & (np.abs(mean[q] - mu[q]) <= ZERO_SD_ATOL)
                )
                y_ok = np.where(positive, (y >= sd_low) & (y <= sd_high), True)
                y_tested = positive
            # out-of-range distance: how far outside the range (inf for NaN, bad sigma, deterministic mismatch)
            z_out = np.where(z_ok, 0.0, np.nan_to_num(np.maximum(mean_low - z, z - mean_high), nan=np.inf))
            y_out = np.where(y_ok, 0.0, np.nan_to_num(np.maximum(sd_low - y, y - sd_high), nan=np.inf))
            tested_z += int(np.count_nonzero(positive))
            tested_y += int(np.count_nonzero(y_tested))
            y_scales += scale[q][y_tested].tolist()
            if not y_ok.all():
                standard = np.where(scale[q] > 0, np.abs(y) / scale[q], np.inf)
                worst_standard_y = max(worst_standard_y, float(np.nan_to_num(standard[~y_ok], nan=np.inf).max()))
            hard += int(np.count_nonzero(~z_ok & ~(positive & np.isfinite(z))))
            hard += int(np.count_nonzero(~y_ok & ~(positive & np.isfinite(y))))
            abs_z, abs_y = np.nan_to_num(np.abs(z), nan=-1.0), np.nan_to_num(np.abs(y), nan=-1.0)
            if n_rows and abs_z.max() > max_z[0]:
                max_z = (float(abs_z.max()), q, int(abs_z.argmax()))
            if n_rows and abs_y.max() > max_y[0]:
                max_y = (float(abs_y.max()), q, int(abs_y.argmax()))
            if not z_ok.all():
                bad_z += int(np.count_nonzero(~z_ok))
                row = int(np.argmax(z_out))
                if worst_z is None or z_out[row] > worst_z[0]:
                    worst_z = (float(z_out[row]), q, row, float(z[row]))
            if not y_ok.all():
                bad_y += int(np.count_nonzero(~y_ok))
                row = int(np.argmax(y_out))
                if worst_y is None or y_out[row] > worst_y[0]:
                    worst_y = (float(y_out[row]), q, row, float(y[row]))
    allowed_z = chance_allowance(tested_z, mean_low, mean_high)
    allowed_y = chance_allowance(tested_y, sd_low, sd_high, scales=y_scales)
    # and none so far out that even the largest of that many scores would not reach it
    extreme = NormalDist().inv_cdf(1.0 - CHANCE_LEVEL / (2.0 * max(tested_z, 1)))
    extreme_y = NormalDist().inv_cdf(1.0 - CHANCE_LEVEL / (2.0 * max(tested_y, 1)))
    within_chance = (worst_z is None or worst_z[0] <= extreme - mean_high) and (
        worst_y is None or worst_standard_y <= extreme_y
    )
    if (
        (worst_z is not None or worst_y is not None)
        and hard == 0
        and within_chance
        and bad_z <= allowed_z
        and bad_y <= allowed_y
    ):
        return True, (
            f"n={n_runs}: {bad_z} of {tested_z} Z and {bad_y} of {tested_y} Y outside their ranges, "
            f"no more than chance allows at level {CHANCE_LEVEL:g} ({allowed_z} and {allowed_y})"
        )
    if worst_z is None and worst_y is None:
        parts = [f"n={n_runs}: all Z in [{mean_low:g}, {mean_high:g}], all Y in [{sd_low:g}, {sd_high:g}]"]
        if max_z[1]:
            parts.append(f"max |Z| {max_z[0]:.3g} ({max_z[1]}, {_where(times, max_z[2])})")
        if max_y[1]:
            parts.append(f"max |Y| {max_y[0]:.3g} ({max_y[1]}, {_where(times, max_y[2])})")
        return True, "; ".join(parts)
    parts = [f"n={n_runs}"]
    if worst_z is not None:
        _, q, row, z_value = worst_z
        at = f"{q} at {_where(times, row)}: mean {mean[q][row]:.6g}, expected {mu[q][row]:.6g}"
        if sigma[q][row] > 0:
            stat = f"Z={z_value:.3g}"
        elif sigma[q][row] == 0:
            stat = "expected sd 0: the mean must match within 1e-12"
        else:
            stat = f"invalid expected sd {sigma[q][row]:g}"
        parts.append(f"Z outside [{mean_low:g}, {mean_high:g}] at {bad_z} point(s); worst {at} ({stat})")
    if worst_y is not None:
        _, q, row, y_value = worst_y
        parts.append(
            f"Y outside [{sd_low:g}, {sd_high:g}] at {bad_y} point(s); worst {q} at {_where(times, row)}: "
            f"sd {sd[q][row]:.6g}, expected {sigma[q][row]:.6g} (Y={y_value:.3g})"
        )
    return False, "; ".join(parts)


# --- running ---------------------------------------------------------------------------------


@dataclass
class CaseResult:
    """The outcome of one case.

    Attributes
    ----------
    case_id : str
        The five-digit case number.
    kind : {'semantic', 'stochastic'}
        The part of the suite.
    status : {'pass', 'fail', 'unsupported', 'error'}
        ``'unsupported'``: the importer declined the model (or the runner cannot score the
        test type); ``'error'``: any other exception, or a timeout.
    detail : str
        What the check found, the unsupported construct, or ``"Type: message"``.
    component_tags, test_tags : list of str
        The case's tags.
    seconds : float
        Wall time of the simulation and check.
    test_type : str
        The case's test type.
    """

    case_id: str
    kind: Kind
    status: Status
    detail: str = ""
    component_tags: list[str] = field(default_factory=list)
    test_tags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    test_type: str = ""

    @property
    def tags(self) -> list[str]:
        """The component tags, then the test tags."""
        return [*self.component_tags, *self.test_tags]

    @property
    def reason(self) -> str:
        """The same as :attr:`detail` (for an unsupported case: the construct)."""
        return self.detail


def _result(case: Case, status: Status, detail: str, seconds: float = 0.0) -> CaseResult:
    return CaseResult(
        case_id=case.id,
        kind=case.kind,
        status=status,
        detail=detail,
        component_tags=list(case.component_tags),
        test_tags=list(case.test_tags),
        seconds=seconds,
        test_type=case.test_type,
    )


def _is_unsupported(error: BaseException) -> bool:
    return isinstance(error, UnsupportedSBMLError) or type(error).__name__ == "UnsupportedSBMLError"


def run_case(
    case: Case,
    simulate: Simulate | None,
    stochastic_simulate: StochasticSimulate | None = None,
    n_runs: int = 10_000,
) -> CaseResult:
    """Simulate one case and score it.

    Parameters
    ----------
    case : Case
        The case.
    simulate : callable or None
        ``simulate(case) -> DataFrame`` for semantic cases: a column per variable of
        ``case.settings.variables`` and ``steps + 1`` rows for the times ``start`` ..
        ``start + duration`` (``case.settings.times``), best as the index named ``time``
        (a model may have a variable named ``time``: see 01820).
    stochastic_simulate : callable, optional
        ``stochastic_simulate(case, n_runs) -> (mean, sd)`` for stochastic cases: the ensemble
        mean and sample standard deviation, a column per quantity of
        ``case.settings.output_quantities`` (e.g. ``X`` or ``ln(X)``), one row per output time;
        or ``(mean, sd, kurtosis)``, the kurtosis scaling the chance allowance of the ``Y``
        scores (see :func:`stochastic_check`).
    n_runs : int
        The ensemble size for stochastic cases.

    Returns
    -------
    CaseResult
        ``'pass'`` / ``'fail'`` from :func:`semantic_check` or :func:`stochastic_check`;
        ``'unsupported'`` with the construct if the simulator raises ``UnsupportedSBMLError``,
        or with ``"testType X"`` for a test type the runner cannot score (e.g.
        ``FluxBalanceSteadyState``); ``'error'`` with ``"Type: message"`` for any other
        exception.
    """
    start = time.perf_counter()

    def done(status: Status, detail: str) -> CaseResult:
        return _result(case, status, detail, time.perf_counter() - start)

    stochastic = case.kind == "stochastic"
    if case.test_type not in (STOCHASTIC_TYPES if stochastic else SEMANTIC_TYPES):
        return done("unsupported", f"testType {case.test_type or '(none)'}")
    function = stochastic_simulate if stochastic else simulate
    if function is None:
        return done("unsupported", f"no {case.kind} simulator")
    if case.model is None:
        return done("error", f"FileNotFoundError: no SBML Level 3 model in {case.directory}")
    try:
        if stochastic:
            mean, sd, *kurtosis = stochastic_simulate(case, n_runs)
            expected_mean, expected_sd = read_stochastic_results(case)
            passed, detail = stochastic_check(expected_mean, expected_sd, mean, sd, n_runs, case.settings, *kurtosis)
        else:
            actual = simulate(case)
            passed, detail = semantic_check(read_results(case.results_path), actual, case.settings)
    except Exception as error:
        if _is_unsupported(error):
            return done("unsupported", str(getattr(error, "construct", "") or error))
        return done("error", f"{type(error).__name__}: {error}")
    return done("pass" if passed else "fail", detail)


def _child(
    connection: Connection,
    case: Case,
    simulate: Simulate | None,
    stochastic_simulate: StochasticSimulate | None,
    n_runs: int,
) -> None:
    """Run one case in a forked worker and send the result back."""
    try:
        result = run_case(case, simulate, stochastic_simulate, n_runs)
    except BaseException as error:  # anything the worker hits goes back as an error
        result = _result(case, "error", f"{type(error).__name__}: {error}")
    connection.send(result)
    connection.close()


def _run_parallel(
    cases: Sequence[Case],
    simulate: Simulate | None,
    stochastic_simulate: StochasticSimulate | None,
    n_runs: int,
    processes: int,
    timeout: float | None,
    on_result: Callable[[CaseResult], None] | None,
) -> list[CaseResult]:
    """Run each case in its own forked process, at most ``processes`` at a time.

    One process per case (rather than a ``multiprocessing.Pool``) so that a case over its
    timeout can be killed on its own: a compiled kernel cannot be interrupted, and a pool
    worker stuck in one would hold its slot to the end. Fork keeps the simulators (closures
    included) without pickling them.
    """
    context = mp.get_context("fork")
    results: list[CaseResult | None] = [None] * len(cases)
    pending = deque(enumerate(cases))
    running: dict[Connection, tuple[int, Any, float, float]] = {}  # receiver -> (index, process, start, deadline)

    def finish(index: int, result: CaseResult) -> None:
        results[index] = result
        if on_result is not None:
            on_result(result)

    try:
        while pending or running:
            while pending and len(running) < processes:
                index, case = pending.popleft()
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=_child, args=(sender, case, simulate, stochastic_simulate, n_runs), daemon=True
                )
                process.start()
                sender.close()
                began = time.monotonic()
                running[receiver] = (index, process, began, math.inf if timeout is None else began + timeout)
            next_deadline = min(deadline for _, _, _, deadline in running.values())
            wait_for = None if math.isinf(next_deadline) else max(0.0, next_deadline - time.monotonic())
            for receiver in wait_for_connections(list(running), timeout=wait_for):
                index, process, began, _ = running.pop(receiver)
                try:
                    result = receiver.recv()
                except EOFError:
                    process.join()
                    result = _result(
                        cases[index],
                        "error",
                        f"WorkerDied: the worker process exited with code {process.exitcode}",
                        time.monotonic() - began,
                    )
                receiver.close()
                process.join()
                finish(index, result)
            now = time.monotonic()
            for receiver, (index, process, began, deadline) in list(running.items()):
                if now >= deadline:
                    process.kill()
                    process.join()
                    receiver.close()
                    del running[receiver]
                    finish(index, _result(cases[index], "error", f"timeout after {timeout:g} s", now - began))
    finally:
        for receiver, (_, process, _, _) in running.items():
            process.kill()
            process.join()
            receiver.close()
    return [r for r in results if r is not None]


def run_suite(
    cases: Iterable[Case],
    simulate: Simulate | None,
    stochastic_simulate: StochasticSimulate | None = None,
    n_runs: int = 10_000,
    processes: int = 1,
    timeout: float | None = 60.0,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run many cases (see :func:`run_case`).

    Parameters
    ----------
    cases : iterable of Case
        The cases, e.g. from :func:`find_cases`.
    simulate, stochastic_simulate, n_runs
        As for :func:`run_case`.
    processes : int
        With 1, the cases run one after another in this process (no timeout: easiest to
        debug). With more, each case runs in a forked process, this many at a time.
    timeout : float or None
        With ``processes > 1``: a case still running after this many seconds is killed and
        reported as ``'error'`` with detail ``"timeout after N s"``. None: no limit.
    on_result : callable, optional
        Called with each :class:`CaseResult` as it completes (e.g. to print progress).

    Returns
    -------
    list of CaseResult
        In the order of ``cases``.
    """
    cases = list(cases)
    # stochastic cases run here: numba's parallel SSA cannot start its thread pool again in
    # a process forked from one that has started it (the child is terminated)
    in_process = [c for c in cases if c.kind == "stochastic"]
    if in_process and processes > 1:
        forked = [c for c in cases if c.kind != "stochastic"]
        done = {
            id(c): r
            for c, r in zip(
                in_process,
                run_suite(in_process, simulate, stochastic_simulate, n_runs, 1, timeout, on_result),
                strict=True,
            )
        }
        done.update(
            {
                id(c): r
                for c, r in zip(
                    forked,
                    run_suite(forked, simulate, stochastic_simulate, n_runs, processes, timeout, on_result),
                    strict=True,
                )
            }
        )
        return [done[id(c)] for c in cases]
    if processes > 1 and len(cases) > 1:
        # the first case runs here, so that the forked workers inherit loaded kernels instead
        # of each loading them from numba's cache again
        first = run_case(cases[0], simulate, stochastic_simulate, n_runs)
        if on_result is not None:
            on_result(first)
        rest = _run_parallel(cases[1:], simulate, stochastic_simulate, n_runs, processes, timeout, on_result)
        return [first, *rest]
    results = []
    for case in cases:
        result = run_case(case, simulate, stochastic_simulate, n_runs)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


# --- reporting -------------------------------------------------------------------------------


def _counts(results: Iterable[CaseResult]) -> dict[str, int]:
    tally = Counter(r.status for r in results)
    counts = {status: tally.get(status, 0) for status in STATUSES}
    counts["total"] = sum(counts.values())
    return counts


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _by_tag(results: Sequence[CaseResult], attribute: str) -> dict[str, dict[str, int]]:
    grouped: dict[str, list[CaseResult]] = defaultdict(list)
    for result in results:
        for tag in getattr(result, attribute):
            grouped[tag].append(result)
    return {tag: _counts(grouped[tag]) for tag in sorted(grouped, key=str.lower)}


def _label(result: CaseResult, mixed: bool) -> str:
    return f"{result.kind}/{result.case_id}" if mixed else result.case_id


def summary(results: Iterable[CaseResult]) -> dict[str, Any]:
    """The outcome as a JSON-able dict.

    Parameters
    ----------
    results : iterable of CaseResult
        From :func:`run_suite`.

    Returns
    -------
    dict
        ``by_kind`` (per kind: counts per status, ``total``, ``pass_percent`` of all cases and
        ``pass_percent_of_supported`` of those not unsupported), ``by_component_tag`` and
        ``by_test_tag`` (counts per status), ``unsupported`` (reason -> case labels),
        ``failed`` and ``errors`` (label -> detail), and ``cases`` (every result as a dict).
    """
    results = list(results)
    mixed = len({r.kind for r in results}) > 1
    by_kind = {}
    for kind in KINDS:
        counts = _counts(r for r in results if r.kind == kind)
        if counts["total"]:
            supported = counts["total"] - counts["unsupported"]
            by_kind[kind] = {
                **counts,
                "pass_percent": _percent(counts["pass"], counts["total"]),
                "pass_percent_of_supported": _percent(counts["pass"], supported),
            }
    unsupported: dict[str, list[str]] = defaultdict(list)
    for result in results:
        if result.status == "unsupported":
            unsupported[result.detail].append(_label(result, mixed))
    return {
        "total": len(results),
        "by_kind": by_kind,
        "by_component_tag": _by_tag(results, "component_tags"),
        "by_test_tag": _by_tag(results, "test_tags"),
        "unsupported": dict(sorted(unsupported.items(), key=lambda item: (-len(item[1]), item[0]))),
        "failed": {_label(r, mixed): r.detail for r in results if r.status == "fail"},
        "errors": {_label(r, mixed): r.detail for r in results if r.status == "error"},
        "cases": [asdict(r) for r in results],
    }


def _format_percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _tag_table(title: str, table: dict[str, dict[str, int]]) -> list[str]:
    lines = [f"## {title}", ""]
    if not table:
        return [*lines, "(no tags)", ""]
    lines += ["| tag | cases | pass | fail | unsupported | error | pass % |", "|---|---:|---:|---:|---:|---:|---:|"]
    for tag, c in table.items():
        lines.append(
            f"| {tag} | {c['total']} | {c['pass']} | {c['fail']} | {c['unsupported']} | {c['error']} "
            f"| {_format_percent(_percent(c['pass'], c['total']))} |"
        )
    return [*lines, ""]


def report(results: Iterable[CaseResult]) -> str:
    """The outcome as a Markdown report.

    Parameters
    ----------
    results : iterable of CaseResult
        From :func:`run_suite`.

    Returns
    -------
    str
        The pass rate of the semantic and of the stochastic cases (pass / total and percent,
        also of the cases not unsupported), tables of counts per component tag and per test
        tag, the failed and error cases with their detail, and the unsupported cases grouped
        by reason.
    """
    results = list(results)
    data = summary(results)
    mixed = len({r.kind for r in results}) > 1
    lines = ["# SBML Test Suite results", ""]
    if not results:
        return "\n".join([*lines, "No cases were run.", ""])
    lines += [
        "| cases | pass | total | pass rate | fail | unsupported | error | pass rate of supported |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, c in data["by_kind"].items():
        lines.append(
            f"| {kind} | {c['pass']} | {c['total']} | {_format_percent(c['pass_percent'])} | {c['fail']} "
            f"| {c['unsupported']} | {c['error']} | {_format_percent(c['pass_percent_of_supported'])} |"
        )
    seconds = sum(r.seconds for r in results)
    lines += ["", f"{len(results)} case(s), {seconds:.1f} s of simulation and checking.", ""]
    lines += _tag_table("By component tag", data["by_component_tag"])
    lines += _tag_table("By test tag", data["by_test_tag"])
    for title, status in (("Failed cases", "fail"), ("Error cases", "error")):
        chosen = [r for r in results if r.status == status]
        lines += [f"## {title} ({len(chosen)})", ""]
        lines += [f"- `{_label(r, mixed)}` ({r.test_type or 'no testType'}): {r.detail}" for r in chosen] or ["None."]
        lines.append("")
    lines += [f"## Unsupported cases ({sum(len(v) for v in data['unsupported'].values())})", ""]
    lines += [f"- **{reason}** ({len(labels)}): {', '.join(labels)}" for reason, labels in data["unsupported"].items()]
    if not data["unsupported"]:
        lines.append("None.")
    return "\n".join([*lines, ""])


# --- command line ----------------------------------------------------------------------------


def parse_case_ids(text: str) -> list[int]:
    """Parse a case selection such as ``"1-100,205"``.

    Parameters
    ----------
    text : str
        Comma-separated numbers and inclusive ranges ``a-b``.

    Returns
    -------
    list of int
        The sorted, distinct case numbers.

    Raises
    ------
    ValueError
        If an item is neither a number nor a range ``a-b`` with ``a <= b``.
    """
    ids: set[int] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        match = re.fullmatch(r"(\d+)\s*-\s*(\d+)", item)
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            if low > high:
                raise ValueError(f"case range {item!r} runs backwards")
            ids.update(range(low, high + 1))
        elif item.isdigit():
            ids.add(int(item))
        else:
            raise ValueError(f"{item!r} is neither a case number nor a range like 1-100")
    return sorted(ids)


def _case_ids_argument(text: str) -> list[int]:
    try:
        return parse_case_ids(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _default_simulators() -> tuple[Simulate, StochasticSimulate]:
    """Return workbench's own simulators (imported here: the reader imports libsbml)."""
    from .reader import simulate_case, simulate_stochastic_case  # noqa: PLC0415 - the reader imports libsbml

    return simulate_case, simulate_stochastic_case


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench.sbml.suite",
        description="Run the SBML Test Suite with workbench's SBML importer and report the pass rates.",
    )
    parser.add_argument(
        "--suite", type=Path, default=None, help=f"the suite's root folder (default: ${SUITE_ENV} or {DEFAULT_SUITE})"
    )
    parser.add_argument(
        "--kind", choices=["semantic", "stochastic", "all"], default="semantic", help="default: semantic"
    )
    parser.add_argument("--cases", type=_case_ids_argument, default=None, help="e.g. 1-100,205 (default: all)")
    parser.add_argument("--processes", type=int, default=1, help="parallel worker processes (default: 1)")
    parser.add_argument("--runs", type=int, default=10_000, help="stochastic ensemble size (default: 10000)")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per case with --processes > 1 (default: 60)"
    )
    parser.add_argument("--report", type=Path, default=None, help="write the Markdown report here (default: stdout)")
    parser.add_argument("--json", type=Path, default=None, help="write the JSON summary here")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite from the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 if no case failed or errored, 1 if some did, 2 if the suite or the simulators could
        not be found.
    """
    args = _parser().parse_args(argv)
    if args.processes < 1 or args.runs < 2:
        print("--processes must be at least 1 and --runs at least 2", file=sys.stderr)
        return 2
    root = args.suite if args.suite is not None else default_suite_path()
    try:
        cases = find_cases(root, args.kind, args.cases)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not cases:
        print(f"error: no {args.kind} cases selected in {root}", file=sys.stderr)
        return 2
    try:
        simulate, stochastic_simulate = _default_simulators()
    except ImportError as error:
        print(f"error: cannot load workbench's SBML reader: {error}", file=sys.stderr)
        return 2
    done = 0

    def progress(result: CaseResult) -> None:
        nonlocal done
        done += 1
        if not args.quiet:
            line = f"[{done}/{len(cases)}] {result.kind} {result.case_id} {result.status} ({result.seconds:.1f} s)"
            if result.status != "pass":
                line += f": {result.detail[:160]}"
            print(line, file=sys.stderr, flush=True)

    results = run_suite(
        cases,
        simulate,
        stochastic_simulate,
        n_runs=args.runs,
        processes=args.processes,
        timeout=args.timeout if args.timeout > 0 else None,
        on_result=progress,
    )
    text = report(results)
    if args.report is not None:
        args.report.write_text(text, encoding="utf-8")
    else:
        print(text)
    if args.json is not None:
        args.json.write_text(json.dumps(summary(results), indent=2) + "\n", encoding="utf-8")
    return 1 if any(r.status in ("fail", "error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
