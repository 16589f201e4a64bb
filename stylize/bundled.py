"""stylize's own trained weights, used when no paper release is installed."""

from __future__ import annotations

from stylize.registry import ModelSpec
from stylize.weights import ModelFiles


def bundled_files(spec: ModelSpec) -> ModelFiles | None:
    """The project's own weights for a model, or None when it ships none for it."""
    return None
