"""The served gallery under load, over loopback: many concurrent sessions, hostile ones among them.

One ``workbench`` server runs in its own process, as ``workbench serve`` runs it. Each round,
:data:`SESSIONS` Bokeh client sessions open the TMDD app (each in its own thread and event
loop, doing what a browser does: pull the document, announce it ready, release a slider) and,
once all are open, change ``kon`` :data:`CHANGES` times each at the same time, every session
to values of its own.
After every change the session waits until the four curves it is sent equal a simulation of
*its* parameters computed here: a session that received another's result, or none, fails.

One session per round misbehaves: it sends a ``kon`` whose solve fails (a step size below
round-off at t = 0) and a value no slider can produce (10^400); it must be shown the error,
keep its session, and get correct curves again afterwards, while the others never notice.

Between rounds all sessions close; the server's resident memory after round 2 (round 1 warms
caches up) and after the last round must not differ by more than two sessions' worth (measured
in the same run), which catches a leak of one session in ten per round. The server's log must
hold no error. Figures (changes per second, latency percentiles, memory) go to
``WORKBENCH_LOAD_REPORT`` when set.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import psutil
import pytest

import workbench as wb

SESSIONS = int(os.environ.get("WORKBENCH_LOAD_SESSIONS", "20"))
CHANGES = int(os.environ.get("WORKBENCH_LOAD_CHANGES", "4"))
ROUNDS = max(int(os.environ.get("WORKBENCH_LOAD_ROUNDS", "3")), 3)  # a warm-up round, then two to compare
#: Seconds one change may take to come back before the session counts as starved.
PATIENCE = 120.0
#: kon (1/(nM h)) at which the TMDD solve cannot start: the step size falls below round-off
#: (up to 1e8 it solves, since the first step is raised to a resolvable size).
FAILING_KON = 1e12

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("load") / "server.log"
    # Bokeh discards a closed session after its unused lifetime (default 15 s, checked every
    # 17 s); a short one lets a round's sessions be gone before memory is read.
    code = (
        "from workbench.views.gallery import serve; "
        f"serve(port={port}, check_unused_sessions_milliseconds=250, unused_session_lifetime_milliseconds=250)"
    )
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=5) as reply:
                assert reply.status == 200
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.3)
    yield url, proc, log
    proc.terminate()
    proc.wait(30)


def _kon_values(session: int) -> list[float]:
    """log10(kon) of each change of one session: distinct across sessions and changes."""
    return [-2.0 + 3.0 * ((session * CHANGES + j + 0.5) / (SESSIONS * CHANGES)) for j in range(CHANGES)]


def _references(log_kons) -> dict[float, dict[str, np.ndarray]]:
    """The curves the server must send for each log10(kon), simulated here."""
    out = {}
    for v in log_kons:
        traj = wb.TMDD(kon=float(10.0**v)).simulate()
        out[v] = {name: traj[name] for name in traj.names}
    return out


class Session:
    """One client: a thread with its own event loop, driving one server session."""

    def __init__(self, url: str, index: int, plan, references, start_together: threading.Barrier):
        self.url, self.index, self.plan, self.references = url, index, plan, references
        self.start_together = start_together  # every session has its page before any changes
        self.latencies: list[float] = []
        self.began = self.ended = math.nan  # the changing phase, after the document is pulled
        self.error: BaseException | None = None
        self.ready = threading.Event()  # every change done; the main thread reads memory
        self.release = threading.Event()  # then lets the session close
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import panel.models  # noqa: F401  (registers Panel's Bokeh models with the client)
        from bokeh.client import pull_session
        from tornado.ioloop import IOLoop

        loop = IOLoop()
        try:
            session = pull_session(url=f"{self.url}/tmdd", io_loop=loop)
            # the client reads server messages only while its connection loops (Bokeh 3 keeps
            # loop_until_closed on the connection): drive the session from inside that loop
            loop.add_callback(self._drive_then_close, session)
            session._connection.loop_until_closed()
        except BaseException as err:  # reported by the test, with the session's number
            self.error = err
        finally:
            self.ready.set()
            loop.close(all_fds=True)

    async def _drive_then_close(self, session) -> None:
        try:
            await asyncio.wait_for(self._drive(session), PATIENCE * (len(self.plan) + 1))
        except BaseException as err:
            self.error = err
        self.ready.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        session.close()

    async def _drive(self, session) -> None:
        from bokeh.document.events import MessageSentEvent
        from bokeh.events import DocumentReady
        from bokeh.models import ColumnDataSource, Slider

        doc = session.document
        updates = [0]  # bumped by every patch the server sends: compare curves only then

        def count(event) -> None:
            updates[0] += 1

        doc.on_change(count)
        doc.callbacks.trigger_on_change(MessageSentEvent(doc, "bokeh_event", DocumentReady()))
        (kon,) = [m for m in doc.models if isinstance(m, Slider) and m.title.startswith("kon")]
        await asyncio.get_running_loop().run_in_executor(None, self.start_together.wait, PATIENCE * 10)
        self.began = time.perf_counter()
        for log_kon, expected in self.plan:
            start = time.perf_counter()
            kon.value = log_kon
            kon.set_from_json("value_throttled", log_kon)  # what BokehJS sends when a slider is let go
            seen = -1
            while True:
                await asyncio.sleep(0.005)
                if time.perf_counter() - start > PATIENCE:
                    raise TimeoutError(f"session {self.index}: kon = 10^{log_kon} not answered in {PATIENCE} s")
                if updates[0] == seen:
                    continue
                seen = updates[0]
                alert = _alert_text(doc)
                if expected == "curves":
                    curves = {
                        m.data["series"][0]: np.asarray(m.data["concentration [nM]"])
                        for m in doc.models
                        if isinstance(m, ColumnDataSource) and "series" in m.data and len(m.data["series"])
                    }
                    reference = self.references[log_kon]
                    # the alert is cleared in a later message than the curves: wait for both
                    if (
                        not alert
                        and len(curves) == 4
                        and all(
                            y.shape == reference[s].shape and np.allclose(y, reference[s], rtol=1e-12, atol=0)
                            for s, y in curves.items()
                        )
                    ):
                        break
                elif expected in alert:
                    break
            self.latencies.append(time.perf_counter() - start)
        self.ended = time.perf_counter()


def _alert_text(doc) -> str:
    """The text of the app's visible error alert ('' when hidden)."""
    for model in doc.models:
        if "alert-danger" in (getattr(model, "css_classes", None) or []) and model.visible:
            return str(model.text)
    return ""


def _settled_rss(proc) -> int:
    """Resident memory once closed sessions are discarded (it stops falling)."""
    process = psutil.Process(proc.pid)
    previous = process.memory_info().rss
    for _ in range(40):
        time.sleep(0.5)
        rss = process.memory_info().rss
        if abs(rss - previous) < 1 << 20:
            return rss
        previous = rss
    return rss


def test_the_served_gallery_binds_to_loopback_and_checks_websocket_origins(server):
    import tornado.httpclient
    import tornado.websocket
    from tornado.ioloop import IOLoop

    url, proc, log = server
    listening = {c.laddr.ip for c in psutil.Process(proc.pid).net_connections("inet") if c.status == "LISTEN"}
    assert listening and listening <= {"127.0.0.1", "::1"}, listening

    async def connect(origin):
        request = tornado.httpclient.HTTPRequest(url.replace("http", "ws") + "/tmdd/ws", headers={"Origin": origin})
        connection = await tornado.websocket.websocket_connect(request)
        connection.close()

    with pytest.raises(tornado.httpclient.HTTPClientError, match="403"):
        IOLoop().run_sync(lambda: connect("http://attacker.example"))
    time.sleep(0.2)
    assert "Refusing websocket connection from Origin 'http://attacker.example'" in log.read_text()


def test_concurrent_sessions_get_their_own_results_and_a_failing_one_harms_nobody(server):
    url, proc, log = server
    log_start = log.stat().st_size  # what the other tests of this server logged is theirs
    references = _references({v for k in range(SESSIONS) for v in _kon_values(k)} | {-1.0})
    failing, overflowing = math.log10(FAILING_KON), 400.0
    rss_start = _settled_rss(proc)
    rounds = []
    for round_index in range(ROUNDS):
        hostile = round_index % SESSIONS
        sessions = []
        start_together = threading.Barrier(SESSIONS)
        for k in range(SESSIONS):
            plan = [(v, "curves") for v in _kon_values(k)]
            if k == hostile:  # fail, be refused, then work again
                plan[1:1] = [(failing, "Simulation failed"), (overflowing, "was refused"), (-1.0, "curves")]
            sessions.append(Session(url, k, plan, references, start_together))
        for session in sessions:
            session.thread.start()
        for session in sessions:
            session.ready.wait(PATIENCE * 10)
        rss_open = psutil.Process(proc.pid).memory_info().rss
        for session in sessions:
            session.release.set()
        for session in sessions:
            session.thread.join(PATIENCE)
        errors = [f"session {s.index}: {s.error!r}" for s in sessions if s.error is not None]
        assert not errors, "\n".join(errors)
        latencies = np.concatenate([s.latencies for s in sessions])
        rounds.append(
            {
                "sessions": SESSIONS,
                "changes": int(latencies.size),
                "seconds": max(s.ended for s in sessions) - min(s.began for s in sessions),
                "latency": latencies,
                "rss_open": rss_open,
                "rss_closed": _settled_rss(proc),
            }
        )

    with open(log) as handle:
        handle.seek(log_start)
        text = handle.read()
    assert not any(word in text for word in ("ERROR", "Traceback", "Exception")), text[-5000:]

    # A closed session's memory goes back to Python's allocator, not to the system, so RSS does
    # not fall when sessions close; it stops rising once a round's worth is reused. A session's
    # footprint (an upper bound: round 1 also pays one-time imports and caches) sets the scale.
    per_session = (rounds[0]["rss_open"] - rss_start) / SESSIONS
    growth = rounds[-1]["rss_closed"] - rounds[1]["rss_closed"]  # round 1 warms caches up
    latency = np.concatenate([r["latency"] for r in rounds[1:] or rounds])
    report = {
        "sessions": SESSIONS,
        "rounds": ROUNDS,
        "changes": int(sum(r["changes"] for r in rounds)),
        "changes_per_second": [r["changes"] / r["seconds"] for r in rounds],
        "latency_ms": {f"p{q}": 1e3 * float(np.percentile(latency, q)) for q in (50, 90, 99)},
        "latency_max_ms": 1e3 * float(latency.max()),
        "rss_mib_closed": [r["rss_closed"] / 2**20 for r in rounds],
        "rss_mib_open": [r["rss_open"] / 2**20 for r in rounds],
        "rss_mib_start": rss_start / 2**20,
        "mib_per_open_session": per_session / 2**20,
        "growth_mib": growth / 2**20,
    }
    if os.environ.get("WORKBENCH_LOAD_REPORT"):
        Path(os.environ["WORKBENCH_LOAD_REPORT"]).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    assert per_session > 0, report
    assert growth < 2 * per_session, f"server memory grew across rounds: {report}"
