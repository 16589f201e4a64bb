"""Contact sheets: every content stylised with every style, laid out in rows and columns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image

from stylize.errors import OutputError
from stylize.media.atomic import atomic_path
from stylize.media.images import image_to_tensor, read_image, resize_long_side, tensor_to_image
from stylize.media.sheet import compose
from stylize.stylizer import Stylizer


def make_sheet(
    model: Stylizer,
    contents: list[Path],
    styles: list[Path],
    cell: int,
    gap: int = 4,
    labels: bool = True,
    size: int = 512,
    style_size: int = 512,
    cells_dir: str | None = None,
    on_cell: Callable[[], None] = lambda: None,
) -> tuple[Image.Image, list[Path]]:
    """The sheet and the stylised files written to `cells_dir` (if given); `on_cell` after each cell."""
    style_images = [resize_long_side(read_image(p).rgb, style_size or None) for p in styles]
    content_images = [resize_long_side(read_image(p).rgb, size or None) for p in contents]
    content_names, style_names = unique_stems(contents), unique_stems(styles)
    cells: list[list[Image.Image | None]] = [[None, *style_images]]
    written: list[Path] = []
    prepared = [model.prepare_style(image_to_tensor(s)) for s in style_images]
    for content, content_name in zip(content_images, content_names, strict=True):
        row: list[Image.Image | None] = [content]
        tensor = image_to_tensor(content)
        for style, style_name in zip(prepared, style_names, strict=True):
            result = tensor_to_image(model.stylize(tensor, style))
            if cells_dir is not None:
                path = Path(cells_dir) / f"{content_name}_{style_name}.png"
                save_sheet(result, path, "PNG")
                written.append(path)
            row.append(result)
            on_cell()
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


def save_sheet(image: Image.Image, path: Path, image_format: str) -> None:
    """Write a sheet or a cell atomically ("PNG", or "JPEG" at quality 92)."""
    options = {"quality": 92} if image_format == "JPEG" else {}
    try:
        with atomic_path(path) as temp:
            image.save(temp, format=image_format, **options)
    except OSError as exc:
        raise OutputError(path, f"cannot write ({exc.strerror or exc})") from None
