"""Run independent chunks of work here or on a Dask cluster, with results in chunk order.

Populations, sweeps and large ensembles split their work into chunks whose results depend
only on the chunk's contents (seeds are derived from subject or run indices, never from
workers). :func:`map_chunks` runs a function over the chunks and yields the results in chunk
order: on this machine one after another (each chunk uses every core through numba's
threads), or on a Dask cluster when given a ``distributed.Client`` or a scheduler address.
Dask re-runs the chunks of a worker that dies, and the ordered yield means the caller sees
each chunk exactly once either way.

Dask is optional (``pip install workbench[dask]``) and imported only when a client is given.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .core import control
from .errors import ModelError

__all__ = ["KERNEL_LOCK", "chunk_ranges", "map_chunks"]

#: Held around a chunk's parallel kernels: a worker running several chunks in threads must not
#: enter numba's parallel region twice at once (the workqueue threading layer is not
#: thread-safe), and one kernel call already uses every core.
KERNEL_LOCK = threading.Lock()


def chunk_ranges(n: int, chunk_size: int) -> list[tuple[int, int]]:
    """``(first, count)`` of consecutive chunks covering ``range(n)``."""
    if int(chunk_size) != chunk_size or chunk_size < 1:
        raise ModelError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return [(first, min(chunk_size, n - first)) for first in range(0, n, int(chunk_size))]


def _client(client: Any):
    if isinstance(client, str):
        try:
            from distributed import Client  # noqa: PLC0415  (optional dependency)
        except ImportError:
            raise ModelError("a scheduler address needs Dask: pip install 'workbench[dask]'") from None
        return Client(client)
    if not (hasattr(client, "map") and hasattr(client, "gather")):
        raise ModelError(f"client must be a distributed.Client or a scheduler address, got {client!r}")
    return client


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


#: Seconds before a progress bar appears: a run shorter than this shows none.
PROGRESS_DELAY = 2.0


def _progress_bar(total: int, description: str, progress: bool | None):
    """A tqdm bar (a widget in a notebook, text in a console), or None when not wanted.

    The bar appears only once the run has taken :data:`PROGRESS_DELAY` seconds, so quick
    calls print nothing (and a notebook's stored outputs stay the same from run to run).
    """
    if progress is None:
        progress = total > 1 and (_in_notebook() or (sys.stderr is not None and sys.stderr.isatty()))
    if not progress:
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415  (only when a bar is shown)

    return tqdm(total=total, desc=description, unit="chunk", delay=PROGRESS_DELAY)


def map_chunks(
    function: Callable[[Any, Any], Any],
    chunks: Sequence[Any],
    *,
    shared: Any = None,
    client: Any = None,
    progress: bool | None = None,
    description: str = "",
) -> Iterator[Any]:
    """Yield ``function(shared, chunk)`` for each chunk, in chunk order.

    Parameters
    ----------
    function : callable
        A module-level function (Dask pickles it by reference) of the shared data and one chunk.
    chunks : sequence
        The chunks' arguments (small: each is sent to a worker).
    shared : object
        What every chunk needs (a compiled network, settings): sent to each worker once.
    client : distributed.Client or str, optional
        Run on this Dask cluster (or the scheduler at this address); ``None`` runs here.
    progress : bool, optional
        Show a progress bar (default: in a terminal or notebook, when there are several chunks).
    description : str
        The progress bar's label.
    """
    bar = _progress_bar(len(chunks), description, progress)
    try:
        if client is None:
            for chunk in chunks:
                control.check(description or "The run")  # a budget or a cancel also holds between chunks
                yield function(shared, chunk)
                if bar is not None:
                    bar.update(1)
            return
        client = _client(client)
        [shared_future] = client.scatter([shared], broadcast=True, hash=False)
        futures = client.map(function, [shared_future] * len(chunks), list(chunks), pure=False)
        try:
            for future in futures:
                result = future.result()
                future.release()
                if bar is not None:
                    bar.update(1)
                yield result
        finally:
            for future in futures:
                future.release()
    finally:
        if bar is not None:
            bar.close()
