"""The served gallery in a real browser: Playwright driving Debian's Chromium.

Each app is opened, checked for browser console errors, its tabs visited, a slider dragged,
and what the plots show read back from the Bokeh document in the page; the same for an app in a
JupyterLab notebook, whose slider talks to the kernel through Bokeh's comm. A screenshot of each
app is saved as a test artifact (``test-artifacts/screenshots``, or ``$WORKBENCH_SCREENSHOTS``;
``make screenshots`` writes them to ``docs/screenshots``).

The browser is the system Chromium (``chromium`` from Debian; ``$WORKBENCH_CHROMIUM`` to
override), never a downloaded one. Without it the tests skip, unless
``WORKBENCH_REQUIRE_BROWSER=1`` (as in CI), where a missing browser fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from workbench.models import MODELS

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("WORKBENCH_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))
#: An SBML model whose species name is an HTML injection attempt (see tests/sbml_build.py).
SBML_FILE = ROOT / "tests" / "data" / "enzyme_inhibition.xml"

pytestmark = pytest.mark.browser

#: What the plots of a page show, read from its Bokeh documents: numbers in the data
#: sources, marker (span) positions and plot titles, summarised per model.
SHOWN = """() => {
  const out = [];
  for (const doc of Bokeh.documents) {
    for (const m of doc._all_models.values()) {
      if (m.type === 'ColumnDataSource') {
        const data = m.data instanceof Map ? m.data : new Map(Object.entries(m.data));
        let sum = 0, n = 0;
        for (const [, column] of data) {
          for (const x of column) { if (typeof x === 'number' && isFinite(x)) { sum += x; n += 1; } }
        }
        out.push(`${m.id}:${n}:${sum.toPrecision(12)}`);
      } else if (m.type === 'Span') {
        out.push(`${m.id}:${m.location}`);
      } else if (m.type === 'Title') {
        out.push(`${m.id}:${m.text}`);
      }
    }
  }
  return out.sort().join('|');
}"""

PLOTS = """() => {
  let n = 0;
  for (const doc of Bokeh.documents || []) {
    for (const m of doc._all_models.values()) { if (m.type === 'Figure' || m.type === 'Plot') n += 1; }
  }
  return n;
}"""


def chromium() -> str | None:
    path = os.environ.get("WORKBENCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return path if path and Path(path).exists() else None


def _missing(reason: str):
    if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (WORKBENCH_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def server(command: list[str], url: str):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        wait_for_http(url, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.fixture(scope="module")
def gallery():
    port = free_port()
    url = f"http://localhost:{port}"
    command = [sys.executable, "-m", "workbench", "serve", "--port", str(port), "--model", str(SBML_FILE)]
    with server(command, f"{url}/"):
        yield url


@pytest.fixture(scope="module")
def browser():
    executable = chromium()
    if executable is None:
        _missing("no system Chromium (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


class Page:
    """A browser page that records console errors and uncaught exceptions."""

    def __init__(self, context):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"{message.text} ({where})" if where else message.text)

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function(f"({PLOTS})() > 0", timeout=90_000)
        self.settle()

    def settle(self, quiet: float = 1.0, timeout: float = 60.0) -> None:
        """Wait until what the page shows stops changing for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        last, since = self.shown(), time.monotonic()
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
            now = self.shown()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def shown(self) -> str:
        return self.page.evaluate(SHOWN)

    def wait_for_change(self, before: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
            now = self.shown()
            if now != before:
                self.settle()
                return self.shown()
        raise AssertionError("the plots did not change")

    def drag_first_slider(self, pixels: float = 40.0) -> None:
        handle = self.page.locator(".noUi-handle").first
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + pixels, y, steps=8)
        self.page.mouse.up()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    yield context
    context.close()


def test_the_gallery_links_every_app(gallery, context):
    page = Page(context)
    page.page.goto(f"{gallery}/", wait_until="load")
    page.page.wait_for_timeout(1500)
    links = page.page.locator("a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
    for name in MODELS:
        assert f"./{name.lower()}" in links, name
    assert page.errors == []


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_app_renders_and_follows_its_sliders(gallery, context, name):
    page = Page(context)
    page.open(f"{gallery}/{name.lower()}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    before = page.shown()
    page.drag_first_slider()
    page.wait_for_change(before)
    # every tab renders without console errors or error messages
    tabs = page.page.locator(".bk-tab")
    for k in range(tabs.count()):
        tabs.nth(k).click()
        page.settle()
        page.page.screenshot(path=str(SCREENSHOTS / f"{name}-tab{k + 1}.png"))
    assert page.errors == [], page.errors
    assert page.page.locator(".alert-danger:visible").count() == 0


def test_an_sbml_file_served_as_an_app_follows_its_sliders_and_injects_nothing(gallery, context):
    """The file names a species ``substrate <img src=x onerror=...>``: it must show as text."""
    page = Page(context)
    failed = []
    page.page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.open(f"{gallery}/enzyme_inhibition")
    page.page.screenshot(path=str(SCREENSHOTS / "sbml-enzyme_inhibition.png"))
    before = page.shown()
    page.drag_first_slider()
    page.wait_for_change(before)
    for tab in ("Stochastic (SSA)", "Identifiability"):  # the SSA of an imported model too
        page.page.locator(".bk-tab", has_text=tab).click()
        page.settle()
    assert failed == [], failed  # an injected <img src=x> would request /x
    assert page.errors == [], page.errors
    assert page.page.locator(".alert-danger:visible").count() == 0


def test_a_dropped_sbml_file_opens_as_an_app_and_a_bad_one_gets_a_message(gallery, context, tmp_path):
    page = Page(context)
    page.page.goto(f"{gallery}/upload", wait_until="load")
    page.page.locator("input[type=file]").first.set_input_files(str(SBML_FILE))
    page.page.wait_for_function(f"({PLOTS})() > 0", timeout=90_000)
    page.settle()
    page.page.screenshot(path=str(SCREENSHOTS / "sbml-upload.png"))
    before = page.shown()
    page.drag_first_slider()
    page.wait_for_change(before)
    broken = tmp_path / "broken.xml"
    broken.write_text(SBML_FILE.read_text()[:500])
    page.page.goto(f"{gallery}/upload", wait_until="load")  # a new session
    page.page.locator("input[type=file]").first.set_input_files(str(broken))
    page.page.locator(".alert-danger:visible").wait_for(timeout=30_000)
    page.page.get_by_text("not valid SBML").first.wait_for(timeout=30_000)  # the message, as text
    assert page.errors == [], page.errors


def test_two_browsers_keep_independent_state(gallery, browser):
    first, second = (browser.new_context(viewport={"width": 1500, "height": 1000}) for _ in range(2))
    try:
        a, b = Page(first), Page(second)
        a.open(f"{gallery}/onecompartment")
        b.open(f"{gallery}/onecompartment")
        shown_b = b.shown()
        a_before = a.shown()
        a.drag_first_slider(60)
        a.wait_for_change(a_before)
        b.page.wait_for_timeout(2000)
        assert b.shown() == shown_b  # the other session's model did not move
        label_a = a.page.locator(".noUi-handle").first.get_attribute("aria-valuenow")
        label_b = b.page.locator(".noUi-handle").first.get_attribute("aria-valuenow")
        assert label_a != label_b
    finally:
        first.close()
        second.close()


def test_an_app_module_runs_under_panel_serve(browser):
    from workbench.apps import path

    port = free_port()
    url = f"http://localhost:{port}/tmdd"
    command = [sys.executable, "-m", "panel", "serve", str(path("TMDD")), "--port", str(port)]
    with server(command, url):
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        try:
            page = Page(context)
            page.open(url)
            assert page.errors == []
        finally:
            context.close()


def run_first_cell(page, attempts: int = 3) -> None:
    """Run a notebook's first cell once its kernel is connected.

    JupyterLab drops a Shift+Enter pressed while the kernel is still connecting (the cell
    keeps an empty prompt), so wait for the status bar to say the kernel is idle, and press
    again if the cell did not start.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.get_by_text(re.compile(r"\| Idle$")).first.wait_for(timeout=120_000)
    prompt = page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt")
    for _ in range(attempts):
        page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(
                "(el) => /\\[(\\*|\\d+)\\]/.test(el.innerText)", arg=prompt.element_handle(), timeout=15_000
            )
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"the notebook cell did not run after {attempts} attempts")


def test_a_notebook_app_renders_and_follows_its_sliders_in_jupyterlab(browser, tmp_path, monkeypatch):
    pytest.importorskip("jupyterlab", reason="JupyterLab is in the notebook extra")
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import workbench as wb\nwb.OneCompartment()")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "app.ipynb")
    port = free_port()
    base = f"http://localhost:{port}"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", f"--ServerApp.root_dir={tmp_path}",
        "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root", f"--LabApp.workspaces_dir={tmp_path}",
    ]  # fmt: skip
    # offline machines: BokehJS and Panel's JavaScript in the output rather than from their CDN
    monkeypatch.setenv("PANEL_INLINE", "1")
    with server(command, f"{base}/api/status"):
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        try:
            page = Page(context)
            page.page.goto(f"{base}/lab/tree/app.ipynb?reset", wait_until="load")
            run_first_cell(page.page)
            try:
                page.page.wait_for_function(f"window.Bokeh && ({PLOTS})() > 0", timeout=120_000)
            except Exception:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.page.screenshot(path=str(SCREENSHOTS / "jupyterlab-failed.png"))
                raise
            page.settle()
            before = page.shown()
            page.drag_first_slider()
            page.wait_for_change(before)  # the kernel recomputed through the comm and the plot followed
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.page.screenshot(path=str(SCREENSHOTS / "jupyterlab.png"))
            assert page.page.locator(".jp-OutputArea-output canvas").count() > 0
            assert page.page.locator(".alert-danger:visible").count() == 0
            assert page.errors == [], page.errors
        finally:
            context.close()
