"""Stopping compiled loops: a wall-time budget and cancellation, polled between steps.

Every solver loop (the ODE integrators, the SSA and CLE runs, continuation, the population
batch) reads a one-element ``int64`` array, the *stop flag*, once per step: zero means go on;
any other value makes the loop return a status code, which its Python wrapper turns into a
:class:`~workbench.errors.SolverError` with reason ``"budget"`` or ``"cancelled"``. The flag
is plain memory, so another thread can set it while a kernel runs (the kernels release the
GIL).

Which flag a kernel gets is decided by the innermost :func:`limits` block of the calling
thread (a context variable, so analyses need no extra argument to pass it down)::

    with limits(seconds=10.0):            # anything inside stops after 10 s of wall time
        diagram = bifurcation(model, "k", (0.1, 10))

    stop = Stop()
    with limits(stop=stop):               # stop.cancel() from another thread stops it
        ...

A budget is armed on a single watchdog thread (started on first use), not a thread per call.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import threading
import time
from collections.abc import Iterator

import numpy as np

from ..errors import ModelError, SolverError

__all__ = ["BUDGET", "CANCELLED", "RUNNING", "Stop", "check", "current_flag", "limits", "stopped_error"]

#: Values of a stop flag.
RUNNING = 0
CANCELLED = 1
BUDGET = 2


class Stop:
    """A stop flag that compiled loops poll; :meth:`cancel` it from any thread to stop them."""

    def __init__(self) -> None:
        self.flag = np.zeros(1, dtype=np.int64)
        #: The budget in seconds of the block that armed this flag, for messages.
        self.seconds: float | None = None

    def cancel(self) -> None:
        """Stop whatever runs under this flag (a newer request supersedes it)."""
        if self.flag[0] == RUNNING:
            self.flag[0] = CANCELLED

    @property
    def stopped(self) -> bool:
        """Whether the flag is set (cancelled or over budget)."""
        return bool(self.flag[0] != RUNNING)


_current: contextvars.ContextVar[Stop | None] = contextvars.ContextVar("workbench_stop", default=None)


class _Watchdog:
    """One daemon thread that sets flags whose deadline has passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Stop]] = []
        self._ids = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._disarmed: set[int] = set()

    def arm(self, stop: Stop, seconds: float) -> int:
        ticket = next(self._ids)
        with self._wake:
            heapq.heappush(self._heap, (time.monotonic() + seconds, ticket, stop))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="workbench-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()
        return ticket

    def disarm(self, ticket: int) -> None:
        with self._wake:
            self._disarmed.add(ticket)
            self._wake.notify()

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._heap and self._heap[0][1] in self._disarmed:
                    self._disarmed.discard(heapq.heappop(self._heap)[1])
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, _, stop = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
                if stop.flag[0] == RUNNING:
                    stop.flag[0] = BUDGET


_WATCHDOG = _Watchdog()


@contextlib.contextmanager
def limits(seconds: float | None = None, stop: Stop | None = None) -> Iterator[Stop]:
    """Run the block under a wall-time budget and/or a stop flag another thread can set.

    Parameters
    ----------
    seconds : float, optional
        Wall-time budget: past it, every solver loop inside the block stops and raises
        :class:`~workbench.errors.SolverError` (reason ``"budget"``).
    stop : Stop, optional
        The flag to poll (``stop.cancel()`` stops the block with reason ``"cancelled"``).
        Without one, an enclosing block's flag is shared (so an outer budget or cancel still
        holds), or a new flag is made.

    Yields
    ------
    Stop
        The flag in force inside the block.
    """
    if seconds is not None:
        seconds = float(seconds)
        if not (np.isfinite(seconds) and seconds > 0):
            raise ModelError(f"a time budget must be a positive number of seconds, got {seconds}")
    flag = stop or _current.get() or Stop()
    outer_seconds = flag.seconds
    if seconds is not None:
        flag.seconds = seconds if outer_seconds is None else min(outer_seconds, seconds)
    token = _current.set(flag)
    ticket = _WATCHDOG.arm(flag, seconds) if seconds is not None else None
    try:
        yield flag
    finally:
        if ticket is not None:
            _WATCHDOG.disarm(ticket)
        flag.seconds = outer_seconds
        _current.reset(token)


def current_flag() -> np.ndarray:
    """The stop flag for a kernel called now: the innermost :func:`limits` block's, or a fresh one."""
    stop = _current.get()
    return stop.flag if stop is not None else np.zeros(1, dtype=np.int64)


def stopped_error(flag: np.ndarray, what: str, t_reached: float = float("nan")) -> SolverError:
    """The error for a loop that stopped because ``flag`` was set."""
    stop = _current.get()
    at = f" at t = {t_reached:.6g}" if np.isfinite(t_reached) else ""
    if int(flag[0]) == BUDGET:
        budget = f"{stop.seconds:g} s " if stop is not None and stop.seconds is not None else ""
        return SolverError(
            f"{what} stopped{at}: the {budget}time budget ran out. Shorten t_end, lower the resolution, "
            "or allow more time.",
            t_reached=t_reached,
            reason="budget",
        )
    return SolverError(
        f"{what} was cancelled{at} (a newer request superseded it).", t_reached=t_reached, reason="cancelled"
    )


def check(what: str) -> None:
    """Raise if the current block was cancelled or ran out of time (for loops written in Python)."""
    stop = _current.get()
    if stop is not None and stop.stopped:
        raise stopped_error(stop.flag, what)
