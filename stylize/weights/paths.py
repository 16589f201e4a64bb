"""Where stylize looks for weights, in order, and where it installs them (no torch here).

--weights, else $STYLIZE_WEIGHTS, else the source checkout's `weights/`, else the per-user data
folder; when none has a model's files, stylize's own trained weights (`bundled_root`).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "STYLIZE_WEIGHTS"
# stylize's own trained weights: `weights/stylize/` of the checkout, shipped inside the package as
# `stylize/weights/bundled/` (setup.py maps the one onto the other when it builds a wheel).
BUNDLED_FOLDER = "stylize"
PACKAGED_BUNDLE = Path(__file__).resolve().parent / "bundled"


def checkout_weights() -> Path | None:
    """`weights/` of the source checkout this package runs from, if it runs from one."""
    root = Path(__file__).resolve().parents[2]
    return root / "weights" if (root / "setup.py").is_file() and (root / "weights").is_dir() else None


def user_weights() -> Path:
    """The per-user weights folder (where `stylize weights install` puts files by default)."""
    from platformdirs import user_data_path  # here, so finding the bundled weights needs only the standard library

    return user_data_path("stylize", appauthor=False) / "weights"


def search_locations(weights: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """(location, why it is searched) in order: --weights, else $STYLIZE_WEIGHTS, else the
    checkout's weights/, else the user data folder."""
    if weights is not None:
        return [(Path(weights).expanduser(), "--weights")]
    env = os.environ.get(ENV_VAR)
    if env:
        return [(Path(env).expanduser(), f"${ENV_VAR}")]
    found = []
    checkout = checkout_weights()
    if checkout is not None:
        found.append((checkout, "checkout weights/"))
    found.append((user_weights(), "user data folder"))
    return found


def install_target(weights: str | os.PathLike[str] | None = None) -> Path:
    """The folder `stylize weights install/fetch` writes to."""
    if weights is not None:
        return Path(weights).expanduser()
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else user_weights()


def bundled_root() -> Path | None:
    """The folder of stylize's own trained weights (`<model folder>/latest_net_*.pth`), if present.

    The checkout's `weights/stylize/` when stylize runs from a source checkout (an editable install
    included), else the copy inside the installed package, which travels with the package whatever
    the install: a venv, `pip install --user`, `--target` or `--prefix`.
    """
    checkout = checkout_weights()
    if checkout is not None and (checkout / BUNDLED_FOLDER).is_dir():
        return checkout / BUNDLED_FOLDER
    return PACKAGED_BUNDLE if PACKAGED_BUNDLE.is_dir() else None
