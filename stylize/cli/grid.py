"""`stylize grid`: a contact sheet, rows of contents, columns of styles, every cell stylised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from stylize.cli.options import model_options

EPILOG = """\b
Examples:
  stylize grid photo1.jpg photo2.jpg -s wave.jpg -s starry.jpg -o sheet.png
  stylize grid photos/ -s paintings/ -o sheet.jpg --cell 192 --outputs cells/ -m stya2k

The first row shows the styles, the first column the contents; each other cell is that content
stylised with that column's style (each style is prepared once)."""

SHEET_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("contents", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--style",
    "-s",
    "styles",
    multiple=True,
    required=True,
    type=click.Path(path_type=str),
    help="Style image or folder (repeat for several).",
)
@click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(path_type=str, dir_okay=False),
    help="The sheet: .png or .jpg.",
)
@click.option(
    "--cell",
    type=click.IntRange(min=16),
    default=256,
    show_default=True,
    help="Side of a cell in pixels (images are fitted inside).",
)
@click.option("--gap", type=click.IntRange(min=0), default=4, show_default=True, help="Pixels between cells.")
@click.option(
    "--labels/--no-labels",
    default=True,
    show_default=True,
    help="Write the file names over the style and content cells.",
)
@click.option(
    "--size",
    type=click.IntRange(min=0),
    default=512,
    show_default=True,
    help="Long side each content is stylised at (0 keeps its size).",
)
@click.option(
    "--style-size",
    type=click.IntRange(min=0),
    default=512,
    show_default=True,
    help="Long side each style is resized to (0 keeps its size).",
)
@click.option(
    "--outputs",
    "cells_dir",
    type=click.Path(path_type=str, file_okay=False),
    default=None,
    help="Also write every stylised image, full size, as DIR/CONTENT_STYLE.png.",
)
@model_options
def grid(contents: tuple[str, ...], styles: tuple[str, ...], output: str, cell: int, gap: int, labels: bool,
         size: int, style_size: int, cells_dir: str | None, **options: Any) -> None:  # fmt: skip
    """Stylise every content with every style and lay the results out on one sheet."""
    from stylize.cli.console import ProgressBar, err_console, print_note
    from stylize.cli.options import load_stylizer, model_choice_of
    from stylize.media.atomic import check_writable
    from stylize.pipeline.grid import make_sheet, save_sheet
    from stylize.pipeline.plan import expand_images

    sheet_format = SHEET_FORMATS.get(Path(output).suffix.lower())
    if sheet_format is None:
        raise click.BadParameter(f"{output}: the sheet must end in .png, .jpg or .jpeg", param_hint="--output")
    content_files, style_files = expand_images(contents, "content"), expand_images(styles)
    check_writable(output)
    model = load_stylizer(model_choice_of(options))
    with ProgressBar("stylising", len(content_files) * len(style_files), unit="cell") as bar:
        sheet, written = make_sheet(
            model, content_files, style_files, cell, gap, labels, size, style_size, cells_dir,
            on_cell=lambda: bar.update(advance=1),
        )  # fmt: skip
    save_sheet(sheet, Path(output), sheet_format)
    rows, columns = len(content_files) + 1, len(style_files) + 1
    err_console.print(f"wrote {output} ({sheet.width}x{sheet.height}, {rows} rows x {columns} columns of {cell} px)")
    if written:
        print_note(f"and {len(written)} stylised images in {cells_dir}/")
