"""`stylize metrics temporal`: warping error (Lai et al.) and style distance of a stylised video."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from stylize.cli.options import model_options
from stylize.pipeline.flow import FLOW_METHODS

EPILOG = """\b
Examples:
  stylize metrics temporal clip.mp4 clip_wave.mp4
  stylize metrics temporal clip.mp4 clip_wave.mp4 --style wave.jpg --json

\b
warping error: mean over frame pairs of the masked squared difference between each
output frame and the next one warped back along the INPUT's optical flow (images in
[0, 1], occlusions and motion boundaries masked out): lower is steadier.
style distance: AdaIN style loss (VGG feature means and standard deviations) between
sampled output frames and the style: lower is closer to the style."""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("input_video", type=click.Path(path_type=Path))
@click.argument("output_video", type=click.Path(path_type=Path))
@click.option(
    "--style",
    "-s",
    "style",
    type=click.Path(path_type=str),
    default=None,
    help="The style image used (adds the style distance; needs the model's VGG encoder).",
)
@click.option(
    "--style-size",
    type=click.IntRange(min=0),
    default=512,
    show_default=True,
    help="Long side the style is resized to, as when stylising (0 keeps its size).",
)
@click.option(
    "--style-frames",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Frames (spread over the video) used for the style distance.",
)
@click.option(
    "--flow",
    type=click.Choice(FLOW_METHODS),
    default="dis",
    show_default=True,
    help="Optical flow on the input frames.",
)
@click.option("--max-frames", type=click.IntRange(min=2), default=None, help="Measure only the first frames.")
@click.option("--start", type=str, default=None, help="Where in INPUT_VIDEO the output starts (stylize video --start).")
@click.option("--duration", type=str, default=None, help="How much of INPUT_VIDEO the output covers.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON on standard output.")
@model_options
def temporal(
    input_video: Path, output_video: Path, style: str | None, style_size: int, style_frames: int, flow: str,
    max_frames: int | None, start: str | None, duration: str | None, as_json: bool, **options: Any,
) -> None:  # fmt: skip
    """Temporal consistency (warping error) and style strength of OUTPUT_VIDEO, stylised from INPUT_VIDEO."""
    from stylize.cli.console import err_console, print_warning
    from stylize.cli.options import load_stylizer, model_choice_of, parse_seconds
    from stylize.media.video.probe import probe
    from stylize.metrics.temporal import measure_videos

    input_start = parse_seconds(start, "--start") or 0.0
    input_duration = parse_seconds(duration, "--duration")
    probe(input_video)
    probe(output_video)
    encoder = style_tensor = None
    device: Any = "cpu"
    if style is not None:
        from stylize.pipeline.pictures import read_styles

        style_tensor = read_styles([style], style_size)[0]
        stylizer = load_stylizer(model_choice_of(options, "video"))
        encoder = stylizer.network.encoder.float()
        device = stylizer.device
    try:
        report = measure_videos(
            input_video, output_video, method=flow, max_frames=max_frames, encoder=encoder, style=style_tensor,
            style_name=style, style_samples=style_frames, device=device, input_start=input_start,
            input_duration=input_duration,
        )  # fmt: skip
    except ValueError as exc:  # fewer than two frames
        from stylize.errors import InputError

        raise InputError(output_video, str(exc)) from None
    for warning in report.warnings:
        print_warning(warning)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{output_video.name} vs {input_video.name}", title_justify="left")
    table.add_column("figure")
    table.add_column("output", justify="right")
    table.add_column("input (reference)", justify="right")
    table.add_row(f"warping error ({report.flow} flow, {report.frames} frames)", f"{report.warping_error:.6f}",
                  f"{report.input_warping_error:.6f}")  # fmt: skip
    if report.style_distance is not None:
        table.add_row(f"style distance ({report.style_frames} frames)", f"{report.style_distance:.4f}",
                      f"{report.input_style_distance:.4f}")  # fmt: skip
        table.add_row("colour distance to the style (Lab, no encoder)", f"{report.colour_distance:.2f}",
                      f"{report.input_colour_distance:.2f}")  # fmt: skip
    from rich.console import Console

    Console(highlight=False).print(table)
    err_console.file.flush()
