"""Files written so that a crash or a full disk never leaves a half-written one behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder, fsync, rename.

    Readers see the old file or the new one, never a mixture: ``os.replace`` is atomic on
    POSIX and Windows, and the fsync puts the data on disk before the name points at it.
    On any failure the temporary file is removed and an existing ``path`` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def frame_csv(frame, path: str | os.PathLike | None = None, index: bool = True) -> str | Path:
    """A DataFrame as CSV text, or written atomically to ``path`` (returns the path).

    Floats are written at full (shortest round-trip) precision, so
    ``pandas.read_csv(path)`` reads back the same numbers (pandas 3 parses floats exactly).
    """
    text = frame.to_csv(index=index, lineterminator="\n")
    return text if path is None else write_atomically(path, text)
