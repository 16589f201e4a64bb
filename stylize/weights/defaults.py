"""Which model a user gets when they name none.

The registry names the default of each purpose: the papers' models. When the papers' weights for
it are not installed, stylize's own weights stand in, and those of some models barely carry a
style (docs/performance.md, "Does the style carry?"). Then the model whose own weights carry
styles best on paintings that training never read is used instead, and the caller says so.
Released weights, where the user has them, keep the registry's default.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from stylize.weights import paths
from stylize.weights.locate import survey
from stylize.weights.registry import DEFAULT_MODELS, MODELS

# Held-out figures of stylize's own weights, beside them (`python bench/quality.py --heldout`, then `--record`).
QUALITY_FILE = "quality.json"
# The figure that ranks them: how often an output's colours are nearest its own style's.
RANK_BY = "colour_top1"


@dataclass(frozen=True)
class DefaultModel:
    """The model to use, and why in one line when it is not the registry's default for the purpose."""

    name: str
    why: str | None = None


def bundled_quality(root: Path | None = None) -> dict[str, dict[str, float]]:
    """Model name -> held-out figures of stylize's own weights for it ({} when none are recorded)."""
    root = root if root is not None else paths.bundled_root()
    if root is None or not (root / QUALITY_FILE).is_file():
        return {}
    models: dict[str, dict[str, float]] = json.loads((root / QUALITY_FILE).read_text(encoding="utf-8"))["models"]
    return {name: figures for name, figures in models.items() if (root / MODELS[name].folder).is_dir()}


def default_model(purpose: str, weights: str | os.PathLike[str] | None = None) -> DefaultModel:
    """The model for a user who names none, for "image" or "video" work.

    With `weights` given, or the default model's released files found in a search location, the
    registry's default. Otherwise, among the models stylize ships weights for, the one whose
    held-out figures rank best.
    """
    preferred = DEFAULT_MODELS[purpose]
    if weights is not None or any(place.complete for place in survey(MODELS[preferred])):
        return DefaultModel(preferred)
    quality = bundled_quality()
    if not quality:
        return DefaultModel(preferred)
    best = max(quality, key=lambda name: quality[name][RANK_BY])
    if best == preferred:
        return DefaultModel(preferred)
    own = quality.get(preferred, {}).get(RANK_BY)
    against = f" against {own:.2f} for {preferred}" if own is not None else ""
    return DefaultModel(
        best,
        f"using {best}: no released {preferred} weights were found, and of stylize's own weights {best}'s "
        f"carry styles best (colour top-1 {quality[best][RANK_BY]:.2f} on held-out paintings{against}); "
        f"-m {preferred} to use {preferred}",
    )
