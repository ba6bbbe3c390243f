"""Data that never gets lost: scenario files under hostile input, interrupted writes, CSV exports.

A scenario loader meets whatever a user uploads, so it is fuzzed with hypothesis (arbitrary
bytes, arbitrary JSON in every field) and must either build a model or raise ``ModelError``;
truncations and future versions are refused with a message; a write that fails half-way
leaves the previous file byte-for-byte. Exports of trajectories, SSA ensembles and
populations read back through pandas to the same floats.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.core.files import write_atomically
from workbench.errors import ModelError
from workbench.models import MODELS
from workbench.models.scenario import (
    MAX_BYTES,
    VERSION,
    load_scenario,
    model_from_scenario,
    save_scenario,
    scenario_dict,
    scenario_json,
)

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _loads_or_refuses(data) -> None:
    try:
        model = model_from_scenario(data)
    except ModelError as err:
        assert str(err).strip()
    else:
        assert type(model).__name__ in MODELS


@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_with_a_message(data):
    _loads_or_refuses(data)


@FUZZ
@given(name=st.sampled_from(sorted(MODELS)), data=st.data())
def test_arbitrary_json_in_a_scenario_builds_a_valid_model_or_is_refused(name, data):
    scenario = scenario_dict(MODELS[name]())
    parameter = data.draw(st.sampled_from([*sorted(scenario["parameters"]), "bogus"]))
    scenario["parameters"][parameter] = data.draw(json_values)
    field = data.draw(st.sampled_from([None, "format", "version", "model", "parameters"]))
    if field is not None:
        scenario[field] = data.draw(json_values)
    _loads_or_refuses(json.dumps(scenario))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),  # nesting deeper than the parser's stack
        ('{"version": ' + "9" * 5000 + "}", "not valid JSON"),  # past Python's int-digit limit
        ("\ufeff{}", "not valid JSON"),
        ("null", "not a workbench scenario"),
        (json.dumps({**scenario_dict(wb.TMDD()), "version": VERSION + 1}), "newer than this workbench"),
        (json.dumps({**scenario_dict(wb.TMDD()), "version": "1"}), "invalid version"),
        (json.dumps({**scenario_dict(wb.TMDD()), "model": "__import__('os')"}), "unknown model"),
        (json.dumps({**scenario_dict(wb.TMDD()), "parameters": []}), "must be a JSON object"),
        (scenario_json(wb.TMDD()).replace('"kon": 1.0', '"kon": NaN'), "must be finite"),
    ],
)
def test_hostile_scenarios_are_refused_clearly(text, expected):
    with pytest.raises(ModelError, match=expected):
        model_from_scenario(text)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_truncation_of_a_scenario_file_is_refused_and_the_file_is_untouched(name, tmp_path):
    path = save_scenario(MODELS[name](), tmp_path / "scenario.json")
    whole = path.read_bytes()
    for cut in range(0, len(whole) - 1, max(len(whole) // 40, 1)):
        truncated = tmp_path / "truncated.json"
        truncated.write_bytes(whole[:cut])
        with pytest.raises(ModelError):
            load_scenario(truncated)
        assert truncated.read_bytes() == whole[:cut]
    assert path.read_bytes() == whole


def test_an_oversized_scenario_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: nothing written, nothing read
    with pytest.raises(ModelError, match="at most"):
        load_scenario(path)
    with pytest.raises(ModelError, match="the limit is"):
        model_from_scenario(b" " * (MAX_BYTES + 1))


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_debris(failing, tmp_path, monkeypatch):
    path = save_scenario(wb.TMDD(kon=0.5), tmp_path / "scenario.json")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing == "write":  # half the text reaches the temporary file, then the disk is full
        real_fdopen = os.fdopen

        class HalfWritten:
            def __init__(self, *args, **kwargs):
                self.handle = real_fdopen(*args, **kwargs)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.handle.close()

            def write(self, text):
                self.handle.write(text[: len(text) // 2])
                self.handle.flush()
                broken()

        monkeypatch.setattr(os, "fdopen", HalfWritten)
    else:
        monkeypatch.setattr(os, failing, broken)
    with pytest.raises(OSError, match="No space left"):
        save_scenario(wb.TMDD(kon=2.0), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.json"]
    assert load_scenario(path).kon == 0.5


def test_atomic_writes_replace_the_whole_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("x" * 10_000)
    write_atomically(path, "short\n")
    assert path.read_text() == "short\n"


# --- exports round-trip through pandas ------------------------------------------------------------


def _read(source, **kwargs) -> pd.DataFrame:
    handle = io.StringIO(source) if isinstance(source, str) else source
    return pd.read_csv(handle, **kwargs)  # the default parser: what users will call


@pytest.mark.parametrize("model", [wb.OneCompartment(Emax=80.0, n_doses=3), wb.TMDD(), wb.TwoStageExpression()])
def test_trajectory_csv_reads_back_the_same_floats(model, tmp_path):
    traj = model.simulate()
    path = traj.to_csv(tmp_path / "trajectory.csv")
    for frame in (_read(path, index_col="t"), _read(traj.to_csv(), index_col="t")):
        assert list(frame.columns) == list(traj.names)
        np.testing.assert_array_equal(frame.index.to_numpy(), traj.t)
        for name in traj.names:
            np.testing.assert_array_equal(frame[name].to_numpy(), traj[name])


def test_ensemble_csv_reads_back_every_run(tmp_path):
    ensemble = wb.TwoStageExpression().ssa(7, seed=4, n_points=9)
    frame = _read(ensemble.to_csv(tmp_path / "ssa.csv"))
    assert list(frame.columns) == ["run", "t", *ensemble.species]
    back = frame[list(ensemble.species)].to_numpy().reshape(ensemble.counts.shape)
    np.testing.assert_array_equal(back, ensemble.counts)
    np.testing.assert_array_equal(frame["t"].to_numpy()[: ensemble.t.size], ensemble.t)


def test_population_csv_tables_read_back(tmp_path):
    model = wb.OneCompartment(n_doses=3, interval=12.0, t_end=48.0, n_points=25)
    result = wb.population(model, 50, {"CL": 0.3, "V": 0.2}, seed=11, progress=False, keep_trajectories=True)
    long = _read(result.to_csv(tmp_path / "profiles.csv"))
    np.testing.assert_array_equal(long["C"].to_numpy().reshape(result.trajectories.shape), result.trajectories)
    np.testing.assert_array_equal(long["time"].to_numpy()[: result.times.size], result.times)
    subjects = _read(result.to_csv(tmp_path / "subjects.csv", table="subjects"), index_col="subject")
    pd.testing.assert_frame_equal(subjects, result.subjects(), check_names=False, check_index_type=False)
    bands = _read(result.to_csv(table="percentiles"), index_col="time")
    pd.testing.assert_frame_equal(bands, result.percentiles())


def test_a_statistics_only_population_exports_its_bands_not_missing_profiles():
    result = wb.population(wb.OneCompartment(), 20, {"CL": 0.3}, seed=1, progress=False, keep_trajectories=False)
    with pytest.raises(ModelError, match="statistics only"):
        result.to_dataframe()
    assert len(_read(result.to_csv(table="percentiles"))) == result.times.size
    with pytest.raises(ModelError, match="table must be"):
        result.to_dataframe("everything")
