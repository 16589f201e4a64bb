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


ENGINES = ("local", "ray")


@dataclass(frozen=True)
class EngineChoice:
    """Where the work runs (see `stylize.pipeline.engines`).

    Attributes:
        name: "local" (this process) or "ray" (actors on a Ray cluster).
        address: the Ray cluster to join ("auto", "ray://host:10001", "host:6379"); None: $RAY_ADDRESS,
            else a Ray started on this machine for the run.
        workers: Ray actors, each with its own copy of the model; None: as many as the cluster's
            free resources allow, at least one.
        cpus_per_worker: CPU cores each actor reserves (and the threads torch uses there).
        gpus_per_worker: GPUs each actor reserves (0: it runs on CPUs).
        segment_frames: a video is cut into segments of about this many frames, one per task.
        warmup_frames: frames stylised before a segment's first one (and not written), so that
            temporal smoothing carries over the seam.
    """

    name: str = "local"
    address: str | None = None
    workers: int | None = None
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    segment_frames: int = 250
    warmup_frames: int = 8

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise SetupError(f"--engine {self.name!r}: choose one of {', '.join(ENGINES)}")
        if self.workers is not None and self.workers < 1:
            raise SetupError(f"--workers {self.workers}: at least 1")
        if self.cpus_per_worker <= 0 or self.gpus_per_worker < 0:
            raise SetupError("--cpus-per-worker must be more than 0 and --gpus-per-worker at least 0")
        if self.segment_frames < 1 or self.warmup_frames < 0:
            raise SetupError("segments need at least 1 frame and warm-up frames cannot be negative")
