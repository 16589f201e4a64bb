"""`stylize video`: stylise a video file, keeping its frame count, timing, rotation and sound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from stylize.cli.options import engine_options, is_quiet, model_options, parse_seconds, style_options
from stylize.media.video.codecs import CODECS
from stylize.pipeline.temporal import TEMPORAL_MODES, TemporalSettings

EPILOG = """\b
Examples:
  stylize video clip.mp4 -s wave.jpg -o clip_wave.mp4
  stylize video phone.mov -s wave.jpg -o out.mp4 --max-size 720 --start 5 --duration 10
  stylize video clip.mp4 -s wave.jpg -o out.webm --codec vp9 --temporal-weight 0.7

\b
--temporal flow (default) blends each stylised frame with the previous output
warped along the optical flow of the input, where that flow is reliable:
much less flicker, the same style. --temporal off stylises every frame on its own."""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Output video (.mp4, .mov, .mkv, .webm, .avi); written whole or not at all.",
)
@style_options
@model_options
@click.option(
    "--temporal",
    type=click.Choice(TEMPORAL_MODES),
    default="flow",
    show_default=True,
    help="flow: occlusion-aware blending along the input's optical flow (less flicker); off: per frame.",
)
@click.option(
    "--temporal-weight",
    type=click.FloatRange(0.0, 1.0),
    default=TemporalSettings().weight,
    show_default=True,
    help="Share of the previous output where the flow is reliable (higher: steadier, softer).",
)
@click.option(
    "--codec",
    type=click.Choice(list(CODECS)),
    default="h264",
    show_default=True,
    help="Video codec (h264 in .mp4 plays in browsers and on phones).",
)
@click.option("--crf", type=int, default=None, help="Quality: lower is better and larger (h264 default 18).")
@click.option("--preset", type=str, default=None, help="Encoder speed/size preset (h264/hevc: ultrafast..veryslow).")
@click.option(
    "--pix-fmt", type=str, default=None, help="Pixel format (default yuv420p; yuv444p keeps odd frame sizes exactly)."
)
@click.option("--start", type=str, default=None, help="Skip this much of the input (seconds or [hh:]mm:ss).")
@click.option("--duration", type=str, default=None, help="Stylise only this long (seconds or [hh:]mm:ss).")
@click.option("--no-audio", is_flag=True, help="Leave the sound out.")
@engine_options
@click.pass_context
def video(ctx: click.Context, input_path: Path, output: Path, **options: Any) -> None:
    """Stylise a video: same frame count, timing, display size, rotation and sound.

    The default model for videos is adaattn-video (the released video model) when its weights are
    installed; every model works.
    """
    from stylize.cli.console import ProgressBar, err_console, print_note, print_warning
    from stylize.cli.options import engine_choice_of, load_stylizer, model_choice_of, style_choice_of
    from stylize.media.video.codecs import EncodeSettings
    from stylize.pipeline.engines import open_engine
    from stylize.pipeline.pictures import read_styles
    from stylize.pipeline.video_runner import VideoSettings

    duration = parse_seconds(options["duration"], "--duration")
    if duration is not None and duration <= 0:
        raise click.BadParameter("must be more than 0", param_hint="--duration")
    settings = VideoSettings(
        temporal=TemporalSettings(mode=options["temporal"], weight=options["temporal_weight"]),
        encode=EncodeSettings(options["codec"], options["crf"], options["preset"], options["pix_fmt"],
                              audio=not options["no_audio"]),
        start=parse_seconds(options["start"], "--start") or 0.0,
        duration=duration,
    )  # fmt: skip
    model_choice = model_choice_of(options, "video")
    style_choice = style_choice_of(options)
    engine_choice = engine_choice_of(options)

    # Check everything cheap before loading the model: output name and codec, the input, styles.
    from stylize.media.atomic import check_writable
    from stylize.media.video.codecs import plan_output
    from stylize.media.video.reader import check_decodable

    plan_output(output, settings.encode)
    check_writable(output)
    info = check_decodable(input_path, settings.start, settings.duration)
    styles = read_styles(style_choice.styles, style_choice.style_size)

    quiet = is_quiet(ctx)
    with open_engine(engine_choice, model_choice) as engine:
        stylizer = load_stylizer(engine.driver_model(model_choice))
        with ProgressBar(info.path.name, unit="frame", quiet=quiet) as bar:

            def update(done: int, total: int | None) -> None:
                bar.update(completed=done, total=total)

            result = engine.run_video(stylizer, styles, input_path, output, style_choice, update, settings)
    for warning in result.warnings:
        print_warning(warning)
    if not quiet:
        audio = "; ".join(result.audio) if result.audio else "no audio"
        print_note(
            f"wrote {result.output}: {result.frames} frames {result.size[0]}x{result.size[1]} at {result.fps:g} fps, "
            f"{audio}; {result.seconds:.1f} s ({result.speed:.2f} frames/s)"
        )
    err_console.file.flush()
