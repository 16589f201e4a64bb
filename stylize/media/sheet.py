"""Contact sheets: a grid of equal square cells, each image fitted and centred in its cell. PIL only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)


@dataclass(frozen=True)
class SheetLayout:
    """Where cells go: `rows` x `columns` squares of `cell` pixels, `gap` pixels apart and around.

    Attributes:
        rows, columns: the number of cells down and across.
        cell: a cell's side in pixels.
        gap: pixels between cells and around the sheet.
    """

    rows: int
    columns: int
    cell: int
    gap: int = 0

    def __post_init__(self) -> None:
        if self.rows < 1 or self.columns < 1:
            raise ValueError(f"a sheet needs at least one row and column, not {self.rows}x{self.columns}")
        if self.cell < 1 or self.gap < 0:
            raise ValueError(f"cell must be at least 1 pixel and gap at least 0 (got {self.cell}, {self.gap})")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the whole sheet."""
        step = self.cell + self.gap
        return self.columns * step + self.gap, self.rows * step + self.gap

    def origin(self, row: int, column: int) -> tuple[int, int]:
        """(x, y) of a cell's top-left corner."""
        if not (0 <= row < self.rows and 0 <= column < self.columns):
            raise IndexError(f"cell ({row}, {column}) is outside a {self.rows}x{self.columns} sheet")
        step = self.cell + self.gap
        return self.gap + column * step, self.gap + row * step

    def placement(self, row: int, column: int, size: tuple[int, int]) -> tuple[int, int]:
        """(x, y) where an image of `size` (at most cell x cell) goes to sit centred in its cell."""
        x, y = self.origin(row, column)
        return x + (self.cell - size[0]) // 2, y + (self.cell - size[1]) // 2


def fit_in_cell(image: Image.Image, cell: int) -> Image.Image:
    """`image` resized (bicubic, antialiased) so its long side is `cell`, aspect ratio kept."""
    w, h = image.size
    scale = cell / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image if size == (w, h) else image.resize(size, Image.Resampling.BICUBIC)


def compose(
    cells: Sequence[Sequence[Image.Image | None]],
    cell: int,
    gap: int = 0,
    labels: dict[tuple[int, int], str] | None = None,
) -> Image.Image:
    """A contact sheet of `cells` (rows of images; None leaves a cell empty).

    Each image is fitted to `cell` (long side) and centred in its cell; `labels` maps (row, column)
    to a caption drawn over the bottom of that cell.

    Returns:
        An RGB image of `SheetLayout(len(cells), max row length, cell, gap).size`.
    """
    layout = SheetLayout(len(cells), max((len(r) for r in cells), default=0), cell, gap)
    sheet = Image.new("RGB", layout.size, BACKGROUND)
    for r, row in enumerate(cells):
        for c, image in enumerate(row):
            if image is None:
                continue
            fitted = fit_in_cell(image.convert("RGB"), cell)
            sheet.paste(fitted, layout.placement(r, c, fitted.size))
    for (r, c), text in (labels or {}).items():
        _caption(sheet, layout, r, c, text)
    return sheet


def _caption(sheet: Image.Image, layout: SheetLayout, row: int, column: int, text: str) -> None:
    """White text on a dark band across the bottom of a cell, cut to fit."""
    x, y = layout.origin(row, column)
    size = max(10, min(18, layout.cell // 12))
    font = _font(size)
    draw = ImageDraw.Draw(sheet, "RGBA")
    while text and draw.textlength(text, font=font) > layout.cell - 6 and len(text) > 1:
        text = text[:-2] + "…"
    band = size + 6
    draw.rectangle([x, y + layout.cell - band, x + layout.cell - 1, y + layout.cell - 1], fill=(0, 0, 0, 150))
    draw.text((x + 3, y + layout.cell - band + 2), text, fill=(255, 255, 255, 255), font=font)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()
