"""Options shared by several commands, written once, and the dataclasses they become.

Commands stack these decorators, then turn the values into `stylize.pipeline.settings` dataclasses
(`model_choice_of(options)`, `style_choice_of(options)`), so nothing below the CLI ever sees a click context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from stylize.device import DEVICES, PRECISIONS
from stylize.models.config import OFFICIAL_SEED, POLICIES
from stylize.pipeline.settings import ENGINES, EngineChoice, ModelChoice, StyleChoice, parse_weights
from stylize.weights.registry import MODELS

F = Callable[..., Any]


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return apply


model_options = _stack(
    click.option("--model", "-m", "model", type=click.Choice(list(MODELS)), default=None,
                 help="Which network (default: adaattn, for videos adaattn-video; when only stylize's own weights "
                 "are installed, the model whose own weights carry styles best, and a note says which)."),
    click.option("--weights", "weights", type=click.Path(path_type=str), default=None,
                 help="Folder or zip with the checkpoints (else $STYLIZE_WEIGHTS, the checkout's weights/, "
                 "the user data folder, then stylize's own weights)."),
    click.option("--device", type=click.Choice(list(DEVICES)), default="auto", show_default=True),
    click.option("--precision", type=click.Choice(list(PRECISIONS)), default="fp32", show_default=True,
                 help="fp32 is exact; bf16 is much faster on CPUs with AMX and on GPUs; fp16 for GPUs."),
    click.option("--attention", "policy", type=click.Choice(list(POLICIES)), default="official", show_default=True,
                 help="official: as released (seeded sample of 4096 relu3_1 style keys); full: every style position."),
    click.option("--seed", type=int, default=OFFICIAL_SEED, show_default=True,
                 help="Seed of the official style-key sample."),
)  # fmt: skip


style_options = _stack(
    click.option("--style", "-s", "styles", multiple=True, required=True, type=click.Path(path_type=str),
                 help="Style image (repeat for several)."),
    click.option("--style-weights", type=str, default=None,
                 help="Interpolation weights of several styles, e.g. 0.7,0.3."),
    click.option("--style-size", type=click.IntRange(min=0), default=512, show_default=True,
                 help="Long side the style is resized to (0 keeps its size)."),
    click.option("--max-size", type=click.IntRange(min=0), default=0,
                 help="Bound on the content's long side (0 keeps its size)."),
    click.option("--alpha", type=click.FloatRange(0.0, 1.0), default=1.0, show_default=True,
                 help="Content-style trade-off: 1 full style, 0 the content's own features."),
    click.option("--preserve-color", is_flag=True, help="Keep the content's colours (luminance-only transfer)."),
    click.option("--mask", "masks", multiple=True, type=click.Path(path_type=str),
                 help="Content mask per style (white = where that style goes)."),
)  # fmt: skip


# Options of commands that read and write image files.
image_io_options = _stack(
    click.option("--quality", type=click.IntRange(1, 100), default=95, show_default=True,
                 help="JPEG and WebP quality."),
    click.option("--max-pixels", type=click.IntRange(min=0), default=None,
                 help="Refuse images with more pixels, checked before decoding (default 200000000, or "
                 "$STYLIZE_MAX_PIXELS; 0 = no limit)."),
)  # fmt: skip


# Where the work runs (`stylize.pipeline.engines`).
engine_options = _stack(
    click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
                 help="local: this process; ray: actors on a Ray cluster (needs pip install 'stylize[ray]'; "
                 "see docs/cluster.md)."),
    click.option("--address", default=None, metavar="ADDRESS",
                 help="Ray cluster to join (default: $RAY_ADDRESS, else a Ray started on this machine for the run)."),
    click.option("--workers", "engine_workers", type=click.IntRange(min=1), default=None,
                 help="Ray actors, each with its own copy of the model (default: as many as the cluster holds)."),
    click.option("--cpus-per-worker", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
                 help="CPU cores each Ray actor reserves (and the threads it computes with)."),
    click.option("--gpus-per-worker", type=click.FloatRange(min=0), default=0.0, show_default=True,
                 help="GPUs each Ray actor reserves (0: it runs on CPUs)."),
)  # fmt: skip


def engine_choice_of(options: dict[str, Any]) -> EngineChoice:
    """The `engine_options` of a command as an `EngineChoice`."""
    return EngineChoice(
        options["engine"], options["address"], options["engine_workers"], options["cpus_per_worker"],
        options["gpus_per_worker"],
    )  # fmt: skip


def is_quiet(ctx: click.Context, quiet: bool = False) -> bool:
    """A command's own --quiet, or the group's `stylize -q`."""
    return quiet or bool((ctx.find_root().obj or {}).get("quiet"))


def model_choice_of(options: dict[str, Any], purpose: str = "image") -> ModelChoice:
    """The `model_options` of a command as a `ModelChoice`; with no --model, the default for
    `purpose` ("image" or "video"), with why when that is not the papers' model."""
    name, why = options["model"], None
    if name is None:
        from stylize.weights.defaults import default_model

        chosen = default_model(purpose, options["weights"])
        name, why = chosen.name, chosen.why
    keys = ("weights", "device", "precision", "policy", "seed")
    return ModelChoice(name, **{key: options[key] for key in keys}, why=why)


def style_choice_of(options: dict[str, Any]) -> StyleChoice:
    """The `style_options` of a command as a `StyleChoice` (checked there: a bad value is a SetupError)."""
    styles = tuple(options["styles"])
    return StyleChoice(
        styles, parse_weights(options["style_weights"]), options["style_size"], options["max_size"],
        options["alpha"], options["preserve_color"], tuple(options["masks"]),
    )  # fmt: skip


def load_stylizer(choice: ModelChoice):  # type: ignore[no-untyped-def]
    """Load the model, and say so when stylize's own weights stand in for a paper's release."""
    import stylize
    from stylize.cli.console import print_note
    from stylize.models.config import Compute

    if choice.why:
        print_note(choice.why)
    model = stylize.load_model(
        choice.name, choice.weights, choice.device, choice.precision, Compute(policy=choice.policy, seed=choice.seed)
    )
    if model.bundled:
        print_note(
            f"using stylize's own trained {choice.name} weights (no released checkpoints found; "
            "see `stylize weights list`)"
        )
    return model


# --- video-specific helpers ------------------------------------------------------------------


def parse_seconds(text: str | None, param_hint: str | None = None) -> float | None:
    """'90', '1:30', '00:01:30.5' -> seconds (None stays None); a bad value is a usage error."""
    if text is None:
        return None
    try:
        value = 0.0
        for part in text.split(":"):
            value = value * 60 + float(part)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a time (seconds, or [hh:]mm:ss)", param_hint=param_hint) from None
    if value < 0:
        raise click.BadParameter("times cannot be negative", param_hint=param_hint)
    return value
