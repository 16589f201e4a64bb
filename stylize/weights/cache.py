"""The per-user cache folder and atomic file writes (no torch here)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CACHE_ENV = "STYLIZE_CACHE"


def user_cache_dir() -> Path:
    """Where stylize keeps files it can rebuild (the derived encoder).

    $STYLIZE_CACHE if set, else platformdirs' user cache folder, else $XDG_CACHE_HOME/stylize
    (or ~/.cache/stylize) where platformdirs is not installed.
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    try:
        from platformdirs import user_cache_path
    except ImportError:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "stylize"
    return user_cache_path("stylize", appauthor=False)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename it into place,
    so a reader never sees a half-written file (and an interrupted write leaves none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
