"""Atomic writes: a file appears whole under its final name, or not at all."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `dst`; on success it replaces `dst` (`os.replace`).

    The temporary file lives in the same folder (so the rename never crosses file systems), keeps
    `dst`'s suffix (so writers that choose the format from the name still work) and is created with
    the usual permissions (0o666 less the umask). On any error, Ctrl-C included, it is removed and
    `dst` is left as it was.
    """
    target = Path(dst)
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temp = target.parent / f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}"
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield temp
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
