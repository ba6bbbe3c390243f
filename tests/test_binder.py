"""The Binder environment, built from binder/ alone: the closest to Binder without Docker.

A fresh virtual environment gets binder/requirements.txt, then binder/postBuild runs as
repo2docker would (installing the package and compiling every kernel into a cache under a
throw-away home), then a tutorial is executed through binder/start. Needs network access to
PyPI, like Binder itself; marked ``binder`` (deselect with ``-m "not binder"``).

The build takes minutes, mostly numba compiling on one core, so ``conftest.py`` starts it in
the background as soon as the tests are collected and runs these tests last: the rest of the
suite runs meanwhile.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"

pytestmark = [pytest.mark.binder, pytest.mark.slow]


def run(command: list[str], env: dict, timeout: float = 1200) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{command[:3]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


#: The background build: its thread, then its result or its error.
_BUILD: dict = {}


def start_build() -> None:
    """Start building the Binder environment in a background thread (once per session)."""
    if "thread" in _BUILD:
        return
    base = Path(tempfile.mkdtemp(prefix="workbench-binder-"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    _BUILD["thread"] = threading.Thread(target=_build, args=(base,), name="binder-build", daemon=True)
    _BUILD["thread"].start()


def _build(base: Path) -> None:
    try:
        venv, home = base / "env", base / "home"
        home.mkdir()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        env = {
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(home),
            "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
            "LANG": "C.UTF-8",
        }
        python = str(venv / "bin" / "python")
        run([python, "-m", "pip", "install", "--quiet", "-r", str(BINDER / "requirements.txt")], env, timeout=2400)
        run(["bash", str(BINDER / "postBuild")], env, timeout=2400)
        _BUILD["result"] = (venv, env)
    except BaseException as error:  # reported by the tests that need the environment
        _BUILD["error"] = error


@pytest.fixture(scope="module")
def binder_env():
    start_build()  # already running when conftest started it
    _BUILD["thread"].join()
    if "error" in _BUILD:
        raise _BUILD["error"]
    return _BUILD["result"]


def test_postbuild_compiles_every_kernel_into_the_image_cache(binder_env):
    venv, env = binder_env
    cache = Path(env["HOME"]) / ".cache" / "workbench-numba"
    assert any(cache.rglob("*.nbi")), "postBuild left no numba cache in NUMBA_CACHE_DIR"
    # a fresh process started through `start` loads the kernels instead of compiling them
    probe = (
        "import json, workbench as wb\n"
        "from workbench.core import warmup\n"
        "wb.TMDD().simulate(); wb.BirthDeath().ssa(10, seed=1)\n"
        "d = warmup.kernel_dispatchers()\n"
        "print(json.dumps({n: sum(f.stats.cache_misses.values()) for n, f in d.items()}))\n"
    )
    misses = json.loads(run(["bash", str(BINDER / "start"), str(venv / "bin" / "python"), "-c", probe], env))
    assert not any(misses.values()), {name: n for name, n in misses.items() if n}


def test_the_gallery_is_registered_with_jupyter_server_proxy(binder_env):
    venv, env = binder_env
    probe = (
        "from importlib.metadata import entry_points\n"
        "(ep,) = [e for e in entry_points(group='jupyter_serverproxy_servers') if e.name == 'workbench']\n"
        "config = ep.load()()\n"
        "print(' '.join(config['command']))\n"
    )
    command = run([str(venv / "bin" / "python"), "-c", probe], env)
    assert "workbench serve" in command and "{port}" in command and "{base_url}workbench" in command


# the first tutorial, and the one that needs the most beyond the core (a local Dask cluster)
@pytest.mark.parametrize("tutorial", ["01-getting-started", "09-virtual-populations"])
def test_a_tutorial_runs_in_the_binder_environment(binder_env, tmp_path, tutorial):
    venv, env = binder_env
    out = tmp_path / "executed.ipynb"
    start = time.perf_counter()
    run(
        [
            "bash", str(BINDER / "start"), str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook",
            "--execute", "--ExecutePreprocessor.timeout=600", "--output", str(out),
            str(ROOT / "notebooks" / f"{tutorial}.ipynb"),
        ],
        env,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    executed = json.loads(out.read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    shown = [
        o
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if "application/vnd.holoviews_exec.v0+json" in o.get("data", {})
    ]
    assert shown, "the tutorial's app cell produced no app output"
    print(f"{tutorial} executed in the Binder environment in {elapsed:.1f} s")
