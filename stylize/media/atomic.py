"""Atomic writes: a file appears whole under its final name, or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `dst`; on success it replaces `dst` (`os.replace`).

    The temporary file lives in the same folder (so the rename never crosses file systems) and keeps
    `dst`'s suffix (so writers that choose the format from the name still work). On any error,
    Ctrl-C included, it is removed and `dst` is left as it was.
    """
    target = Path(dst)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
