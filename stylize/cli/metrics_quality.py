"""`stylize metrics quality`: style loss and content loss over content-style pairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stylize.cli.options import model_options
from stylize.weights.registry import ENCODER

if TYPE_CHECKING:
    from stylize.metrics.pairs import Triple

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
features of output and content. Lower is closer; over several pairs, the mean.

When the pairs are every content with each of two or more styles, figures that do not use any VGG
encoder follow (stylize.metrics.fidelity): colour top-1 (an output's own style is its nearest in
Lab colour), colour ratio, texture top-1, SSIM to the content, style dependence, and the gates a
shipped default should pass (docs/performance.md)."""


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
    help=f"The VGG encoder that defines the figures: a {ENCODER.filename} or its folder.",
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
    from stylize.cli.console import ProgressBar
    from stylize.cli.options import load_stylizer, model_choice_of
    from stylize.metrics.report import load_metric_encoder, measure_triples

    plan = _plan(outputs, contents, styles, triples, run_model, baseline)
    encoder = load_metric_encoder(encoder_path)
    stylizer = load_stylizer(model_choice_of(options)) if run_model else None
    with ProgressBar("measuring", len(plan), unit="pair") as bar:
        report = measure_triples(
            plan, encoder, stylizer, size, style_size, options["device"], on_pair=lambda: bar.update(advance=1)
        )
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
    fid = report["fidelity"]
    if fid is not None:
        Console(highlight=False).print(
            f"independent of the encoder: colour top-1 {fid['colour_top1']:.2f} (chance {fid['chance']:.2f}), "
            f"colour ratio {fid['colour_ratio']:.2f}, texture top-1 {fid['texture_top1']:.2f}, "
            f"SSIM {fid['ssim']:.2f}, style dependence {fid['style_dependence']:.3f}"
        )
        verdict = "; ".join(fid["collapse"]) if fid["collapse"] else None
        print_note(
            f"gates missed: {', '.join(fid['gates_missed']) or 'none'}" + (f"; collapse: {verdict}" if verdict else "")
        )


def _short(text: str) -> str:
    path = Path(text)
    return path.name if path.suffix else text
