"""Atomic writes: a file appears whole at its final name, or not at all.

NOTE: a minimal version written for the video branch; the CLI branch writes its own with the same
name and signature, and the two are reconciled on merge.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `dst`; on success rename it to `dst`, on any error remove it.

    The temporary file lies in the same folder (so the final `os.replace` is atomic on one file
    system), is hidden, and keeps `dst`'s suffix (so tools that guess a format from the name, such
    as FFmpeg, still can). An error, Ctrl-C included, leaves no file behind and `dst` untouched.

    Args:
        dst: the final path.

    Yields:
        The temporary path to write to (it does not exist yet).
    """
    final = Path(dst)
    temp = final.with_name(f".{final.stem}.{secrets.token_hex(4)}.partial{final.suffix}")
    try:
        yield temp
        os.replace(temp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
