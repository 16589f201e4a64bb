"""What a run is asked to do, as plain frozen dataclasses: the CLI builds them, the runners read them.

Values are checked here, once, whoever builds them (the CLI, the Python API, a benchmark); a bad
value is a `SetupError` naming the option.
"""

from __future__ import annotations

from dataclasses import dataclass

from stylize.errors import SetupError
from stylize.models.config import OFFICIAL_SEED


@dataclass(frozen=True)
class ModelChoice:
    """Which model to load, from where, on what (see `stylize.load_model`).

    Attributes:
        why: when the user named no model and stylize chose another than the papers' default, why
            (`stylize.weights.defaults`); said when the model loads.
    """

    name: str = "adaattn"
    weights: str | None = None
    device: str = "auto"
    precision: str = "fp32"
    policy: str = "official"
    seed: int = OFFICIAL_SEED
    why: str | None = None


@dataclass(frozen=True)
class StyleChoice:
    """What to apply and how.

    Attributes:
        styles: the style image files.
        style_weights: interpolation weights, one per style (None: equal, or masks decide).
        style_size: long side each style is resized to (0 keeps its size).
        max_size: bound on the content's long side (0 keeps its size).
        alpha: content-style trade-off in [0, 1] (1: full style).
        preserve_color: keep the content's colours (luminance-only transfer).
        masks: one content mask per style (white = where that style goes), or none.
    """

    styles: tuple[str, ...]
    style_weights: tuple[float, ...] | None = None
    style_size: int = 512
    max_size: int = 0
    alpha: float = 1.0
    preserve_color: bool = False
    masks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.masks and len(self.masks) != len(self.styles):
            raise SetupError(
                f"--mask: {len(self.masks)} masks for {len(self.styles)} styles: give one --mask per --style"
            )
        weights = self.style_weights
        if weights is not None and len(weights) != len(self.styles):
            raise SetupError(f"--style-weights: {len(weights)} weights for {len(self.styles)} styles")
        if weights is not None and (any(w < 0 for w in weights) or sum(weights) <= 0):
            raise SetupError("--style-weights: weights must be non-negative and not all zero")
        if not 0.0 <= self.alpha <= 1.0:
            raise SetupError(f"--alpha: {self.alpha} is not in [0, 1]")


def parse_weights(text: str | None) -> tuple[float, ...] | None:
    """'0.7,0.3' -> (0.7, 0.3); `StyleChoice` checks them against its styles."""
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise SetupError(f"--style-weights: {text!r} is not a comma-separated list of numbers") from None
