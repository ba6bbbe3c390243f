"""Time to the first rendered app: in a fresh kernel, in JupyterLab, and served (kernels warm).

    python benchmarks/run.py first_plot
    python benchmarks/first_plot.py --env <venv>    # measure another environment, e.g. Binder's

Kernel: a new Jupyter kernel is started and a cell ``import workbench as wb; wb.TMDD()`` is
executed; the time runs from the kernel start request to the cell's app output (the mime
bundle the browser renders), before the kernel shuts down.

JupyterLab: a JupyterLab server is up; headless Chromium opens a notebook holding that cell and
waits for its fresh kernel to be idle, then presses Shift+Enter; the time runs until a Bokeh
canvas is drawn in the cell's output (the first plot a user sees). The baseline, measured
alternately in the same run, is a bare HoloViews curve in a fresh kernel: the floor any
HoloViz output pays. Also reported: from opening
the notebook (kernel start included) to the plot. Two ways the JavaScript can arrive:

- *CDN* (Binder, and any machine online): the output names BokehJS and Panel's bundles on
  their CDNs. These machines are offline, so Chromium's host resolver sends the two CDNs'
  names to an HTTPS server on loopback that answers with the same files from the installed
  packages (as a nearby CDN would); requests it cannot answer are listed.
- *inline* (``PANEL_INLINE=1``, for offline machines): the JavaScript travels in the output
  (about 6 MB), and Panel inlines every stylesheet of the app in the kernel, which costs
  seconds more.

Served: the gallery server is already up (as on Binder's launcher); a new Chromium page
requests the TMDD app and the time runs until Bokeh reports the document idle (plots drawn).

All assume ``workbench warmup`` has cached the kernels. Target: under 5 s. With ``--env``
the kernel and JupyterLab run from that environment (started through ``binder/start``, so
with Binder's numba cache settings); Chromium is driven from this one.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import mimetypes
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3
CELL = "import workbench as wb\nwb.TMDD()"
#: The floor any HoloViz output pays in a fresh kernel (imports, extension, BokehJS drawing),
#: measured in the same run as the baseline.
BASELINE_CELL = (
    "import holoviews as hv, panel as pn\nhv.extension('bokeh', inline=pn.config.inline)\nhv.Curve([1, 3, 2])"
)
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


#: What the output asks of the two CDNs (host, path), and where the installed packages keep it.
CDN_FILES = [
    ("cdn.bokeh.org", re.compile(r"/bokeh/release/bokeh(-[a-z]+)?-[0-9][^/]*\.min\.js$"), "bokeh"),
    ("cdn.holoviz.org", re.compile(r"/panel/[^/]+/dist/(.+)$"), "panel"),
]


def _package_dirs(env: Path | None) -> dict[str, Path]:
    probe = "import bokeh, panel, json, os; print(json.dumps([os.path.dirname(m.__file__) for m in (bokeh, panel)]))"
    out = subprocess.run(_command(env, "python", "-c", probe), capture_output=True, text=True, check=True)
    bokeh, panel = json.loads(out.stdout.strip().splitlines()[-1])
    return {"bokeh": Path(bokeh), "panel": Path(panel)}


def _local_file(host: str, path: str, packages: dict[str, Path]) -> Path | None:
    for cdn, pattern, package in CDN_FILES:
        match = pattern.match(urllib.parse.urlsplit(path).path) if host.split(":", maxsplit=1)[0] == cdn else None
        if match is None:
            continue
        if package == "bokeh":
            return packages["bokeh"] / "server" / "static" / "js" / f"bokeh{match.group(1) or ''}.min.js"
        return packages["panel"] / "dist" / urllib.parse.unquote(match.group(1))
    return None


@contextlib.contextmanager
def cdn_stand_in(packages: dict[str, Path]):
    """An HTTPS server on loopback answering for the two CDNs from the installed packages.

    Yields the Chromium arguments that send the CDNs' host names to it (and accept its
    self-signed certificate), and the list of requests it could not answer.
    """
    missing: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host = self.headers.get("Host", "")
            path = _local_file(host, self.path, packages)
            if path is None or not path.is_file():
                missing.append(f"https://{host}{self.path}")
                self.send_error(404)
                return
            body = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    with tempfile.TemporaryDirectory() as folder:
        key, cert = Path(folder) / "key.pem", Path(folder) / "cert.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=cdn",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.server_address[1]
        rules = ", ".join(f"MAP {cdn}:443 127.0.0.1:{port}" for cdn, _, _ in CDN_FILES)
        try:
            yield [f"--host-resolver-rules={rules}", "--ignore-certificate-errors"], missing
        finally:
            server.shutdown()
            server.server_close()


def _wait_for_a_drawn_plot(page, seconds: float = 60.0) -> None:
    """Until a canvas in a cell's output is visible (any: Bokeh keeps hidden ones too)."""
    canvases = page.locator(".jp-OutputArea-output canvas")
    deadline = time.monotonic() + seconds
    while not any(canvas.is_visible() for canvas in canvases.all()):
        if time.monotonic() > deadline:
            raise TimeoutError("no plot was drawn")
        page.wait_for_timeout(20)


def jupyterlab_first_app(browser, base: str, notebook: str = "first.ipynb") -> tuple[float, float]:
    """(Shift+Enter in an idle fresh kernel -> plot, notebook opened -> plot), in seconds."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    opened = time.perf_counter()
    page.goto(f"{base}/lab/tree/{notebook}?reset")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    # the page's own connection to the kernel must be up (the server's kernel state can say
    # idle earlier, and JupyterLab drops a Shift+Enter pressed before the page is connected)
    page.get_by_text(re.compile(r"\| Idle$")).first.wait_for(timeout=60_000)
    page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
    pressed = time.perf_counter()
    page.keyboard.press("Shift+Enter")
    try:
        _wait_for_a_drawn_plot(page)
    except Exception:
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "test-artifacts" / "first-plot-failed.png"))
        raise RuntimeError(f"no plot in {notebook}; errors in the page: {errors}") from None
    drawn = time.perf_counter()
    page.close()
    _shut_down_kernels(base)
    return drawn - pressed, drawn - opened


def jupyterlab_runs(browser, env: Path | None, inline: bool) -> dict[str, list[tuple[float, float]]]:
    """Runs of the app's notebook and of the baseline's, alternating, in one JupyterLab."""
    import nbformat  # only this measurement writes a notebook

    with tempfile.TemporaryDirectory() as root:
        for name, cell in (("first.ipynb", CELL), ("baseline.ipynb", BASELINE_CELL)):
            notebook = nbformat.v4.new_notebook()
            notebook.cells = [nbformat.v4.new_code_cell(cell)]
            notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            nbformat.write(notebook, Path(root) / name)
        port = _free_port()
        server = subprocess.Popen(
            _command(
                env, "jupyter", "lab", "--no-browser", f"--port={port}", f"--ServerApp.root_dir={root}",
                "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                "--allow-root", f"--LabApp.workspaces_dir={root}",
            ),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root,
            env={**os.environ, "PANEL_INLINE": "1" if inline else "0"},
        )  # fmt: skip
        base = f"http://localhost:{port}"
        try:
            _wait_for(f"{base}/api/status")
            jupyterlab_first_app(browser, base)  # first load fills the browser's cache of Lab's assets
            runs: dict[str, list[tuple[float, float]]] = {"first.ipynb": [], "baseline.ipynb": []}
            for _ in range(REPEATS):
                for name, times in runs.items():
                    times.append(jupyterlab_first_app(browser, base, name))
            return runs
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

    args = ["--no-sandbox", "--disable-gpu"]
    with sync_playwright() as playwright, cdn_stand_in(_package_dirs(env)) as (cdn_args, missing):
        for inline, how in ((False, "JavaScript from the CDNs"), (True, "inline, PANEL_INLINE=1")):
            browser = playwright.chromium.launch(executable_path=chromium, args=args + ([] if inline else cdn_args))
            runs = jupyterlab_runs(browser, env, inline)
            browser.close()
            lab, base = runs["first.ipynb"], runs["baseline.ipynb"]
            ratio = statistics.median(r[0] for r in lab) / statistics.median(r[0] for r in base)
            print(f"- JupyterLab ({how}), Shift+Enter in a fresh idle kernel to the first plot drawn: "
                  f"{_runs([r[0] for r in lab])}; a bare HoloViews curve (baseline): {_runs([r[0] for r in base])}, "
                  f"ratio {ratio:.2f}; notebook opened (kernel start included) to the plot: "
                  f"{_runs([r[1] for r in lab])}")  # fmt: skip
        if missing:
            print(f"  requests to the CDNs that no installed file answers: {sorted(set(missing))}")
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        served = served_runs(browser, env)
        print(f"- first page of a running gallery server: {served[0]:.2f} s; later sessions {_runs(served[1:])}")
        browser.close()


if __name__ == "__main__":
    main()
