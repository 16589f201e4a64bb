"""The per-user cache folder: files stylize can rebuild (the derived encoder). No torch here."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path

CACHE_ENV = "STYLIZE_CACHE"


def user_cache_dir() -> Path:
    """Where stylize keeps files it can rebuild: $STYLIZE_CACHE if set, else the user cache folder."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return user_cache_path("stylize", appauthor=False)
