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
    from stylize.cli.console import err_console, print_note
    from stylize.cli.options import ModelChoice, load_stylizer
    from stylize.pipeline.plan import expand_images

    sheet_format = SHEET_FORMATS.get(Path(output).suffix.lower())
    if sheet_format is None:
        raise click.BadParameter(f"{output}: the sheet must end in .png, .jpg or .jpeg", param_hint="--output")
    content_files, style_files = expand_images(contents, "content"), expand_images(styles)
    model = load_stylizer(ModelChoice.from_options(options))
    sheet, written = make_sheet(model, content_files, style_files, cell, gap, labels, size, style_size, cells_dir)
    _save(sheet, Path(output), sheet_format)
    rows, columns = len(content_files) + 1, len(style_files) + 1
    err_console.print(f"wrote {output} ({sheet.width}x{sheet.height}, {rows} rows x {columns} columns of {cell} px)")
    if written:
        print_note(f"and {len(written)} stylised images in {cells_dir}/")


def make_sheet(
    model: Any,
    contents: list[Path],
    styles: list[Path],
    cell: int,
    gap: int = 4,
    labels: bool = True,
    size: int = 512,
    style_size: int = 512,
    cells_dir: str | None = None,
) -> tuple[Any, list[Path]]:
    """The sheet (a PIL image) and the stylised files written to `cells_dir` (if given)."""
    from rich.progress import Progress

    from stylize.cli.console import err_console
    from stylize.media.images import image_to_tensor, read_image, resize_long_side, tensor_to_image
    from stylize.media.sheet import compose

    style_images = [resize_long_side(read_image(p).rgb, style_size or None) for p in styles]
    content_images = [resize_long_side(read_image(p).rgb, size or None) for p in contents]
    content_names, style_names = unique_stems(contents), unique_stems(styles)
    cells: list[list[Any]] = [[None, *style_images]]
    written: list[Path] = []
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("stylising", total=len(contents) * len(styles))
        prepared = [model.prepare_style(image_to_tensor(s)) for s in style_images]
        for content, content_name in zip(content_images, content_names, strict=True):
            row: list[Any] = [content]
            tensor = image_to_tensor(content)
            for style, style_name in zip(prepared, style_names, strict=True):
                result = tensor_to_image(model.stylize(tensor, style))
                if cells_dir is not None:
                    path = Path(cells_dir) / f"{content_name}_{style_name}.png"
                    _save(result, path, "PNG")
                    written.append(path)
                row.append(result)
                progress.advance(task)
            cells.append(row)
    names: dict[tuple[int, int], str] = {}
    if labels:
        names.update({(0, c + 1): n for c, n in enumerate(style_names)})
        names.update({(r + 1, 0): n for r, n in enumerate(content_names)})
    return compose(cells, cell, gap, names), written


def unique_stems(paths: list[Path]) -> list[str]:
    """File stems, made unique by a numeric suffix where two files share one."""
    seen: dict[str, int] = {}
    names = []
    for path in paths:
        stem = path.stem
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return names


def _save(image: Any, path: Path, image_format: str) -> None:
    from stylize.errors import OutputError
    from stylize.media.atomic import atomic_path

    options = {"quality": 92} if image_format == "JPEG" else {}
    try:
        with atomic_path(path) as temp:
            image.save(temp, format=image_format, **options)
    except OSError as exc:
        raise OutputError(path, f"cannot write ({exc.strerror or exc})") from None
