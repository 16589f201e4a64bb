"""File kinds by extension: which files are images or videos, and which image formats stylize writes.

Pure data, no imports of Pillow or torch, so planning stays light.
"""

from __future__ import annotations

import os
from pathlib import PurePath

from stylize.errors import SetupError

# What a folder scan picks up (case-insensitive). Files named explicitly are read whatever their name.
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"})

# Output extension -> Pillow format name.
WRITABLE = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
# Formats that keep an alpha channel.
WITH_ALPHA = frozenset({"PNG", "WEBP", "TIFF"})


def kind_of(path: os.PathLike[str] | str) -> str:
    """ "video" for a video extension, else "image"."""
    return "video" if PurePath(path).suffix.lower() in VIDEO_EXTENSIONS else "image"


def output_format(path: os.PathLike[str] | str) -> str:
    """The Pillow format an output path is written in, from its extension.

    Raises:
        SetupError: an extension stylize does not write (a usage error: exit code 2).
    """
    suffix = PurePath(path).suffix.lower()
    if suffix in WRITABLE:
        return WRITABLE[suffix]
    if not suffix:
        raise SetupError(f"{path}: no extension to choose the image format by; use .png, .jpg, .webp or .tiff")
    raise SetupError(f"{path}: cannot write images as {suffix}; use .png, .jpg, .webp or .tiff")
