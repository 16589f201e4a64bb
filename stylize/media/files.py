"""Reading image files for the grid and metric commands: open as RGB, expand folders."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from stylize.errors import InputError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})


def open_rgb(path: str | os.PathLike[str]) -> Image.Image:
    """An image file as RGB, turned upright (EXIF); transparency is composited on white.

    Raises:
        InputError: missing, unreadable or not an image.
    """
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            image.load()
    except FileNotFoundError:
        raise InputError(str(path), "no such file") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(str(path), f"not a readable image ({exc})") from None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def expand_images(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, folders replaced by their images (sorted by name, not recursive).

    Raises:
        InputError: a path that does not exist, or a folder without images.
    """
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not inside:
                raise InputError(path, "folder holds no images", hint=f"looked for {', '.join(sorted(IMAGE_SUFFIXES))}")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(path, "no such file or folder")
    return found
