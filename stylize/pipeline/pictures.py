"""The one loader of the pictures a user names: styles and masks (contents are read the same way).

Every picture goes through `stylize.media.images.read_image` (EXIF orientation, the pixel limit,
colour profiles, one list of suffixes), so a style photo is the same picture in `stylize image`,
`batch`, `video` and `grid`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stylize.media.images import mask_to_tensor, read_image, sized_tensor

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from stylize.stylizer import PreparedStyle, Stylizer


def read_styles(paths: Sequence[str | Path], style_size: int | None, max_pixels: int | None = None) -> list[Tensor]:
    """Style files as (1, 3, h, w) float32 tensors in [0, 1], long side `style_size` (None/0 keeps it).

    Raises:
        InputError: a file cannot be read (naming it).
    """
    return [sized_tensor(read_image(path, max_pixels), style_size) for path in paths]


def prepare_styles(
    stylizer: Stylizer, paths: Sequence[Path], style_size: int | None, max_pixels: int | None = None
) -> dict[Path, PreparedStyle]:
    """Each distinct style file decoded and encoded once, for the whole run.

    Raises:
        InputError: a style file cannot be read (naming it).
    """
    return {
        path: stylizer.prepare_style(tensor) for path, tensor in read_style_files(paths, style_size, max_pixels).items()
    }


def read_style_files(
    paths: Sequence[Path], style_size: int | None, max_pixels: int | None = None
) -> dict[Path, Tensor]:
    """Each distinct style file as a (1, 3, h, w) float32 tensor in [0, 1], long side `style_size`.

    Raises:
        InputError: a style file cannot be read (naming it).
    """
    tensors: dict[Path, Tensor] = {}
    for path in paths:
        if path not in tensors:
            tensors[path] = sized_tensor(read_image(path, max_pixels), style_size)
    return tensors


def read_masks(paths: Sequence[str | Path], max_pixels: int | None = None) -> list[Image.Image]:
    """Mask images, decoded once; `mask_tensors` fits them to each content."""
    return [read_image(path, max_pixels).rgb for path in paths]


def mask_tensors(masks: Sequence[Image.Image], size: tuple[int, int]) -> list[Tensor] | None:
    """Masks (white = that style) as (H, W) float32 tensors in [0, 1] at `size` (width, height); None for none."""
    return [mask_to_tensor(mask, size) for mask in masks] if masks else None
