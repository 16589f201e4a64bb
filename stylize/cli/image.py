"""`stylize image`: one content, one or several styles, one output (files or standard streams)."""

from __future__ import annotations

import sys
from typing import Any

import click

from stylize.cli.options import (
    image_io_options,
    load_stylizer,
    model_choice_of,
    model_options,
    style_choice_of,
    style_options,
)
from stylize.errors import SetupError

EPILOG = """\b
Examples:
  stylize image photo.jpg -s wave.jpg -o out.png
  stylize image photo.jpg -s wave.jpg -s ink.png --style-weights 0.7,0.3 -o mix.jpg --quality 90
  stylize image photo.jpg -s wave.jpg -s ink.png --mask sky.png --mask ground.png -o masked.png
  cat photo.jpg | stylize image - -s wave.jpg -o - > out.png

The output keeps the content's size (--max-size bounds it), its transparency and its colour
profile; the format follows the extension: .png, .jpg/.jpeg, .webp, .tif/.tiff (`-o -`: PNG)."""


@click.command(epilog=EPILOG)
@click.argument("content", type=click.Path(path_type=str, allow_dash=True))
@style_options
@click.option("--output", "-o", required=True, type=click.Path(path_type=str, allow_dash=True),
              help="Output file (.png, .jpg, .webp, .tiff), or - for PNG on standard output.")  # fmt: skip
@image_io_options
@model_options
def image(content: str, output: str, quality: int, max_pixels: int | None, **options: Any) -> None:
    """Stylise one image: CONTENT (a file, or - for standard input) with the -s style(s)."""
    from stylize.media.atomic import check_writable, write_bytes_atomic
    from stylize.media.formats import output_format
    from stylize.media.images import decode_image, encode_image, read_image
    from stylize.pipeline.image_runner import stylize_picture
    from stylize.pipeline.pictures import read_masks, read_styles

    model_choice = model_choice_of(options)
    style_choice = style_choice_of(options)
    to_stdout = output == "-"
    fmt = "PNG" if to_stdout else output_format(output)
    if to_stdout and sys.stdout.isatty():
        raise SetupError("-o -: standard output is a terminal; redirect it (> out.png) or give a file name")

    # The output is tried and every input read before the model loads, so a bad one fails at once.
    if not to_stdout:
        check_writable(output)
    if content == "-":
        if sys.stdin.isatty():
            raise SetupError("CONTENT is -, but standard input is a terminal; pipe an image in (cat a.jpg | ...)")
        picture = decode_image(sys.stdin.buffer.read(), "stdin", max_pixels)
    else:
        picture = read_image(content, max_pixels)
    styles = read_styles(style_choice.styles, style_choice.style_size, max_pixels)
    masks = read_masks(style_choice.masks, max_pixels)

    stylizer = load_stylizer(model_choice)
    prepared = [stylizer.prepare_style(style) for style in styles]
    result = stylize_picture(stylizer, picture, prepared, style_choice, masks)
    data = encode_image(result, fmt, quality)
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_bytes_atomic(output, data)
