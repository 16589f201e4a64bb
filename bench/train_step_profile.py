#!/usr/bin/env python3
"""Where a training step's time goes, phase by phase, on this machine.

    python bench/train_step_profile.py -m adaattn -b 8 --crop 256 --precision bf16 [--steps 3]

Builds the same `Trainer` as `stylize train` (on `.traindata/`, or --content/--style) and times,
for a few steps after a warm-up step: sampling the crops, the frozen encoder on content and style,
the model's forward, the loss encoder on the output, the losses, the backward pass and the Adam
step. Prints a Markdown table (mean seconds per step and share) to paste into bench/results/.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

from stylize.training import losses
from stylize.training.config import TrainConfig
from stylize.training.data import CONTENT_AUGMENT, STYLE_AUGMENT
from stylize.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent


def profile_step(trainer: Trainer, times: dict[str, float]) -> None:
    """One step of `Trainer.train_step`'s work with each phase timed into `times`."""
    config, spec = trainer.config, trainer.spec
    video = spec.training.frame_pairs
    weights = config.weights

    def lap(name: str, start: float) -> float:
        now = time.perf_counter()
        times[name] += now - start
        return now

    t = time.perf_counter()
    second = None
    if video:
        content, second = trainer.content.sample(
            config.batch_size, config.crop, CONTENT_AUGMENT, trainer.generator, True
        )
        content = torch.cat([content, second])
    else:
        content = trainer.content.sample(config.batch_size, config.crop, CONTENT_AUGMENT, trainer.generator)
    style = trainer.style.sample(config.batch_size, config.crop, STYLE_AUGMENT, trainer.generator)
    if video:
        style = torch.cat([style, style])
    t = lap("sample crops", t)
    trainer.optimizer.zero_grad(set_to_none=True)
    encoder = trainer.net.encoder
    with trainer.autocast():
        with torch.no_grad():
            cf = encoder.features(content)
            sf = encoder.features(style)
        t = lap("encoder: content + style (no grad)", t)
        output = trainer.net.official_forward(cf, sf, 0)
        t = lap("model forward", t)
        of = encoder.features(output)
        t = lap("loss encoder on output", t)
    found = [losses.global_loss(of, sf, range(*spec.training.global_layers))]
    t = lap("global loss", t)
    if "a2k" in weights:
        found.append(losses.a2k_loss(of, cf, sf))
    if "local" in weights:
        found.append(losses.local_loss(of, cf, sf, 0))
    t = lap("attention loss (targets + MSE)", t)
    if second is not None:
        n = content.shape[0] // 2
        found.append(
            losses.similarity_loss(
                ([f[:n] for f in of], [f[n:] for f in of]),
                ([f[:n] for f in cf], [f[n:] for f in cf]),
                range(1, 4),
                config.temporal_positions,
                trainer.generator,
            )
        )
        t = lap("temporal loss", t)
    sum(found).backward()
    t = lap("backward", t)
    trainer.optimizer.step()
    lap("optimiser step", t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--model", default="adaattn")
    parser.add_argument("-b", "--batch-size", type=int, default=8)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--precision", default="bf16")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--content", type=Path, default=ROOT / ".traindata" / "content")
    parser.add_argument("--style", type=Path, default=ROOT / ".traindata" / "style")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(
            model=args.model,
            content=(args.content,),
            style=(args.style,),
            out=Path(out),
            steps=args.steps,
            batch_size=args.batch_size,
            crop=args.crop,
            precision=args.precision,
            device="cpu",
        )
        trainer = Trainer(config)
        profile_step(trainer, defaultdict(float))  # warm-up: first-call allocations
        times: dict[str, float] = defaultdict(float)
        start = time.perf_counter()
        for _ in range(args.steps):
            profile_step(trainer, times)
        total = (time.perf_counter() - start) / args.steps
    print(
        f"{args.model}, batch {args.batch_size}, crop {args.crop}, {args.precision}, "
        f"{torch.get_num_threads()} threads: {total:.2f} s/step (mean of {args.steps})\n"
    )
    print("| phase | s/step | share |\n|---|---:|---:|")
    for name, seconds in times.items():
        print(f"| {name} | {seconds / args.steps:.2f} | {seconds / args.steps / total:.0%} |")


if __name__ == "__main__":
    main()
