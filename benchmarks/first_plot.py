"""Time to the first rendered app: in a fresh kernel, in JupyterLab, and served (kernels warm).

    python benchmarks/run.py first_plot
    python benchmarks/first_plot.py --env <venv>    # measure another environment, e.g. Binder's

Kernel: a new Jupyter kernel is started and a cell ``import workbench as wb; wb.TMDD()`` is
executed; the time runs from the kernel start request to the cell's app output (the mime
bundle the browser renders), before the kernel shuts down.

JupyterLab: a JupyterLab server is up; headless Chromium opens a notebook holding that cell and
waits for its fresh kernel to be idle, then presses Shift+Enter; the time runs until a Bokeh
canvas is drawn in the cell's output (the first plot a user sees). Also reported: from opening
the notebook (kernel start included) to the plot. The kernels run with ``PANEL_INLINE=1``
(the JavaScript travels in the output instead of coming from a CDN), which works offline.

Served: the gallery server is already up (as on Binder's launcher); a new Chromium page
requests the TMDD app and the time runs until Bokeh reports the document idle (plots drawn).

All assume ``workbench warmup`` has cached the kernels. Target: under 5 s. With ``--env``
the kernel and JupyterLab run from that environment (started through ``binder/start``, so
with Binder's numba cache settings); Chromium is driven from this one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3
CELL = "import workbench as wb\nwb.TMDD()"
APP_MIME = "application/vnd.holoviews_exec.v0+json"

# Executed by the measured environment's Python: nbclient comes with JupyterLab.
KERNEL_SCRIPT = f"""
import json, time, nbformat
from nbclient import NotebookClient
notebook = nbformat.v4.new_notebook()
notebook.cells = [nbformat.v4.new_code_cell({CELL!r})]
client = NotebookClient(notebook, timeout=300, kernel_name="python3")
start = time.perf_counter()
with client.setup_kernel():  # the clock stops at the output, before the kernel shuts down
    client.execute_cell(notebook.cells[0], 0)
    elapsed = time.perf_counter() - start
data = next(o for o in notebook.cells[0].outputs if o.output_type == "execute_result").data
import importlib.util
print(json.dumps({{"seconds": elapsed, "app": {APP_MIME!r} in data,
                   "rfc3987_syntax": importlib.util.find_spec("rfc3987_syntax") is not None}}))
"""


def _command(env: Path | None, *args: str) -> list[str]:
    """Run ``args`` (a program of the environment) in this one, or through binder/start in ``env``."""
    if env is None:
        return [str(Path(sys.executable).with_name(args[0])), *args[1:]]
    return ["bash", str(ROOT / "binder" / "start"), str(env / "bin" / args[0]), *args[1:]]


def kernel_first_app(env: Path | None) -> dict:
    out = subprocess.run(
        _command(env, "python", "-c", KERNEL_SCRIPT), capture_output=True, text=True, check=True, cwd=ROOT
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["app"], "the cell did not output an app"
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up in {seconds} s")


def _kernels(base: str) -> list[dict]:
    with urllib.request.urlopen(f"{base}/api/kernels", timeout=5) as response:
        return json.load(response)


def _shut_down_kernels(base: str) -> None:
    for kernel in _kernels(base):
        request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}", method="DELETE")
        urllib.request.urlopen(request, timeout=10)


def jupyterlab_first_app(browser, base: str) -> tuple[float, float]:
    """(Shift+Enter in an idle fresh kernel -> plot, notebook opened -> plot), in seconds."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    opened = time.perf_counter()
    page.goto(f"{base}/lab/tree/first.ipynb?reset")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    deadline = time.monotonic() + 60
    while not any(k["execution_state"] == "idle" for k in _kernels(base)):
        if time.monotonic() > deadline:
            raise RuntimeError("the notebook's kernel did not become idle")
        time.sleep(0.05)
    page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
    pressed = time.perf_counter()
    page.keyboard.press("Shift+Enter")
    page.locator(".jp-OutputArea-output canvas").first.wait_for(state="visible", timeout=60_000)
    drawn = time.perf_counter()
    page.close()
    _shut_down_kernels(base)
    return drawn - pressed, drawn - opened


def jupyterlab_runs(browser, env: Path | None) -> list[tuple[float, float]]:
    import nbformat  # only this measurement writes a notebook

    with tempfile.TemporaryDirectory() as root:
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(CELL)]
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, Path(root) / "first.ipynb")
        port = _free_port()
        server = subprocess.Popen(
            _command(
                env, "jupyter", "lab", "--no-browser", f"--port={port}", f"--ServerApp.root_dir={root}",
                "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                "--allow-root", f"--LabApp.workspaces_dir={root}",
            ),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root,
            # Bokeh and Panel's JavaScript inline in the output, not from their CDN: these
            # machines are offline, and inline is the larger payload (a conservative time)
            env={**os.environ, "PANEL_INLINE": "1"},
        )  # fmt: skip
        base = f"http://localhost:{port}"
        try:
            _wait_for(f"{base}/api/status")
            jupyterlab_first_app(browser, base)  # first load fills the browser's cache of Lab's assets
            return [jupyterlab_first_app(browser, base) for _ in range(REPEATS)]
        finally:
            server.terminate()
            server.wait(timeout=30)


def served_first_app(browser, url: str) -> float:
    page = browser.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(
        "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle", timeout=60_000
    )
    elapsed = time.perf_counter() - start
    page.close()
    return elapsed


def served_runs(browser, env: Path | None) -> list[float]:
    port = _free_port()
    server = subprocess.Popen(
        _command(env, "workbench", "serve", "--port", str(port)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(f"http://localhost:{port}/", 240)
        return [served_first_app(browser, f"http://localhost:{port}/tmdd") for _ in range(REPEATS + 1)]
    finally:
        server.terminate()
        server.wait(timeout=20)


def _runs(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s (runs: {', '.join(f'{t:.2f}' for t in values)})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, help="a virtual environment to measure instead of this one")
    args = parser.parse_args([] if argv is None and __name__ != "__main__" else argv)
    env = args.env.resolve() if args.env else None
    print(f"\n## Time to the first rendered app (warm kernel cache{', environment ' + str(env) if env else ''})\n")
    kernel = [kernel_first_app(env) for _ in range(REPEATS)]
    print(
        f"- fresh Jupyter kernel to the TMDD app's output: {_runs([k['seconds'] for k in kernel])}; "
        # jsonschema >= 4.25 imports rfc3987-syntax (0.9 s) in every kernel; binder/ pins it out
        f"rfc3987-syntax installed: {kernel[0]['rfc3987_syntax']}"
    )
    chromium = shutil.which("chromium")
    if chromium is None:
        print("- JupyterLab and served: skipped (no chromium)")
        return
    from playwright.sync_api import sync_playwright  # the test extra

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        lab = jupyterlab_runs(browser, env)
        print(f"- JupyterLab, Shift+Enter in a fresh idle kernel to the first plot drawn: {_runs([r[0] for r in lab])}")
        print(f"- JupyterLab, notebook opened (kernel start included) to the plot: {_runs([r[1] for r in lab])}")
        served = served_runs(browser, env)
        print(f"- first page of a running gallery server: {served[0]:.2f} s; later sessions {_runs(served[1:])}")
        browser.close()


if __name__ == "__main__":
    main()
