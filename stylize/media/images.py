"""Images: a robust decoder and encoder, PIL <-> tensor conversion and resizing.

Reading (`read_image`, `decode_image`) gives an upright RGB picture of 8 bits per channel, its
alpha channel kept aside, whatever the file holds:

* EXIF orientation is applied (a phone photo comes out upright) and dropped from the output.
* Grayscale, palette (with or without transparency), CMYK, YCbCr and 16-bit files are converted;
  16-bit samples are scaled to 8 bits (the networks work on 8-bit images; outputs are 8-bit).
* An animated GIF, WebP or PNG gives its first frame.
* The header's size is checked before any pixel is decoded: an image over `max_pixels`
  (default `DEFAULT_MAX_PIXELS`, 200 megapixels; $STYLIZE_MAX_PIXELS overrides) is refused, so a
  decompression bomb never reaches memory.
* Every unreadable file (missing, a folder, empty, truncated, not an image) is one `InputError`
  naming the file.

Writing (`encode_image`, `write_image`) picks the format from the extension (png, jpg/jpeg with a
quality, webp, tif/tiff), puts the alpha channel back where the format can hold it, keeps an RGB
colour profile, and writes atomically.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from stylize.errors import InputError, SetupError, reason
from stylize.media.atomic import write_bytes_atomic
from stylize.media.formats import WITH_ALPHA, output_format

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 200_000_000
MAX_PIXELS_ENV = "STYLIZE_MAX_PIXELS"
DEFAULT_QUALITY = 95
STDIN = "-"


def fit_long_side(height: int, width: int, max_side: int | None) -> tuple[int, int]:
    """The size after bounding the long side by `max_side`, keeping the aspect ratio.

    A `max_side` of None or 0, or one that is already met, keeps the size. Sides never drop below 1.
    """
    long_side = max(height, width)
    if not max_side or long_side <= max_side:
        return height, width
    scale = max_side / long_side
    return max(1, round(height * scale)), max(1, round(width * scale))


def scale_long_side(height: int, width: int, side: int | None) -> tuple[int, int]:
    """The size with the long side set to exactly `side` (up or down); None or 0 keeps the size."""
    if not side:
        return height, width
    scale = side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


@dataclass(frozen=True)
class Picture:
    """A decoded image, upright, 8 bits per channel.

    Attributes:
        rgb: mode "RGB".
        alpha: mode "L", the same size as `rgb`, or None when the file has no transparency.
        icc_profile: the file's colour profile when it is an RGB profile (kept in the output), else None.
        frames: how many frames the file holds (only the first is used).
        mode: the file's own Pillow mode ("RGB", "P", "I;16", "CMYK", ...).
    """

    rgb: Image.Image
    alpha: Image.Image | None = None
    icc_profile: bytes | None = None
    frames: int = 1
    mode: str = "RGB"

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.rgb.size

    def with_rgb(self, rgb: Image.Image) -> Picture:
        """The same picture (alpha, profile) with new colour pixels of the same size."""
        if rgb.size != self.rgb.size:
            raise ValueError(f"new pixels are {rgb.size}, the picture is {self.rgb.size}")
        return replace(self, rgb=rgb.convert("RGB"))


def max_pixels_default() -> int:
    """The pixel limit: $STYLIZE_MAX_PIXELS if set (0 = no limit), else `DEFAULT_MAX_PIXELS`."""
    text = os.environ.get(MAX_PIXELS_ENV)
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(text)
        if value < 0:
            raise ValueError
    except ValueError:
        raise SetupError(f"${MAX_PIXELS_ENV}={text!r} is not a number of pixels (0 for no limit)") from None
    return value


# --- reading -------------------------------------------------------------------------------


def read_image(path: str | os.PathLike[str], max_pixels: int | None = None) -> Picture:
    """Decode an image file (see the module docstring for what is handled).

    Args:
        path: the file.
        max_pixels: refuse images with more pixels (checked on the header, before decoding);
            None uses `max_pixels_default()`, 0 means no limit.

    Raises:
        InputError: naming the file, in one line.
    """
    path = _check_file(path)
    try:
        with open(path, "rb") as fp:
            return _decode(fp, path, max_pixels)
    except OSError as exc:  # opening (permissions); decoding errors are handled in _decode
        raise InputError(path, f"cannot read ({reason(exc)})") from exc


def read_image_bytes(path: str | os.PathLike[str]) -> bytes:
    """An image file's bytes, undecoded, with `read_image`'s checks of the file itself.

    For decoding elsewhere (`decode_image` with the path as its name gives what `read_image` gives).

    Raises:
        InputError: naming the file, in one line.
    """
    path = _check_file(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({reason(exc)})") from exc


def _check_file(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({reason(exc)})") from exc
    if path.is_dir():
        raise InputError(path, "is a folder, not an image file")
    if size == 0:
        raise InputError(path, "empty file (0 bytes)")
    return path


def decode_image(data: bytes, name: str = "stdin", max_pixels: int | None = None) -> Picture:
    """Decode an image held in memory (standard input); errors name it `name`."""
    if not data:
        raise InputError(name, "empty input (0 bytes)")
    return _decode(io.BytesIO(data), name, max_pixels)


# Serialises the brief lifting of Pillow's global pixel limit in `_open_header`.
_PILLOW_LIMIT = threading.Lock()


def _open_header(fp: BinaryIO) -> Image.Image:
    """`Image.open` (which reads only the header) with our limit in charge instead of Pillow's.

    Pillow checks its own global limit (with a warning above half of it) while opening; stylize
    checks `max_pixels` right after, still before any pixel is decoded. Lifting Pillow's limit for
    the call, rather than for the process, leaves other users of Pillow as they were.
    """
    with _PILLOW_LIMIT:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(fp)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _decode(fp: BinaryIO, name: str | Path, max_pixels: int | None) -> Picture:
    limit = max_pixels_default() if max_pixels is None else max_pixels
    try:
        image = _open_header(fp)
    except UnidentifiedImageError:
        suffix = Path(str(name)).suffix.lower()
        named = f" (its name says {suffix[1:]}, its content is not)" if suffix else ""
        raise InputError(name, f"not an image file: unknown format{named}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(name, f"cannot read the image header ({reason(exc)})") from exc
    with image:
        width, height = image.size
        if limit and width * height > limit:
            raise InputError(
                name,
                f"{width}x{height} is {width * height / 1e6:.0f} megapixels, over the limit of "
                f"{limit / 1e6:g}; refused before decoding (a decompression bomb?)",
                hint=_LIMIT_HINT,
            )
        try:
            frames = int(getattr(image, "n_frames", 1))
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb, alpha = _split(upright)
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
            raise InputError(name, f"truncated or corrupt image ({reason(exc)})") from exc
        if frames > 1:
            log.info("%s: %d frames; using the first", name, frames)
        return Picture(rgb, alpha, _rgb_profile(image.info.get("icc_profile")), frames, image.mode)


_LIMIT_HINT = f"if you trust the file, raise the limit with --max-pixels N (or ${MAX_PIXELS_ENV}; 0 = none)"


def _split(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """(RGB, alpha or None) of an image of any mode, 8 bits per channel."""
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("RGBa", "La"):  # premultiplied
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA"):
        return image.convert("RGB"), image.getchannel("A")
    if mode.startswith("I") or mode == "F":
        return _wide_to_gray(image).convert("RGB"), None
    return image.convert("RGB"), None


def _wide_to_gray(image: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit integer or float grayscale image as 8-bit "L".

    Pillow's own conversion clips instead of scaling, which turns a 16-bit image white.
    """
    values = np.asarray(image).astype(np.float64)
    if image.mode == "F":
        scale = 255.0 if values.size and values.max() <= 1.0 else 1.0
    else:  # 16-bit files come as "I;16*" or "I"; a 32-bit "I" within 0..255 is already 8-bit
        scale = 1.0 / 257.0 if image.mode.startswith("I;16") or (values.size and values.max() > 255) else 1.0
    return Image.fromarray(np.clip(values * scale + 0.5, 0, 255).astype(np.uint8), mode="L")


def _rgb_profile(profile: bytes | None) -> bytes | None:
    """An ICC profile worth keeping in an RGB output: only an RGB one (bytes 16-20 name its colour space)."""
    return profile if profile and len(profile) >= 20 and profile[16:20] == b"RGB " else None


# --- sizing --------------------------------------------------------------------------------


def resize_long_side(image: Image.Image, side: int | None, only_down: bool = False) -> Image.Image:
    """Resize (bicubic, antialiased) so the long side is `side`; None keeps the image.

    With `only_down`, `side` is a bound: smaller images are kept as they are.
    """
    w, h = image.size
    new_h, new_w = fit_long_side(h, w, side) if only_down else scale_long_side(h, w, side)
    if (new_h, new_w) == (h, w):
        return image
    return image.resize((new_w, new_h), Image.Resampling.BICUBIC)


def bound_picture(picture: Picture, max_side: int | None) -> Picture:
    """The picture (colour and alpha) shrunk so its long side is at most `max_side` (None/0: as is)."""
    rgb = resize_long_side(picture.rgb, max_side, only_down=True)
    if rgb is picture.rgb:
        return picture
    alpha = picture.alpha.resize(rgb.size, Image.Resampling.BICUBIC) if picture.alpha is not None else None
    return replace(picture, rgb=rgb, alpha=alpha)


# --- tensors -------------------------------------------------------------------------------


def image_to_tensor(image: Image.Image) -> Tensor:
    """An RGB PIL image -> (1, 3, H, W) float32 in [0, 1]."""
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def sized_tensor(picture: Picture, long_side: int | None) -> Tensor:
    """A picture's colours as the networks take them, long side `long_side` (None/0 keeps it):
    (1, 3, H, W) float32 in [0, 1]."""
    return image_to_tensor(resize_long_side(picture.rgb, long_side or None))


def tensor_to_image(tensor: Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) float -> RGB PIL image: clamped to [0, 1], x255, rounded."""
    if tensor.ndim == 4:
        tensor = tensor[0]
    array = (tensor.detach().float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array, mode="RGB")


def mask_to_tensor(image: Image.Image, size: tuple[int, int]) -> Tensor:
    """A mask image (white = 1) resized to `size` (width, height) -> (H, W) float32 in [0, 1]."""
    gray = image.convert("L")
    if gray.size != size:
        gray = gray.resize(size, Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(gray, dtype=np.float32) / 255.0)


# --- writing -------------------------------------------------------------------------------


def encode_image(picture: Picture, fmt: str, quality: int = DEFAULT_QUALITY) -> bytes:
    """The picture as a file in Pillow format `fmt` ("PNG", "JPEG", "WEBP", "TIFF").

    The alpha channel is kept where the format holds one (PNG, WebP, TIFF) and dropped, with a
    warning, for JPEG. `quality` (1-100) applies to JPEG and WebP.
    """
    image = picture.rgb
    if picture.alpha is not None:
        if fmt in WITH_ALPHA:
            image = image.copy()
            image.putalpha(picture.alpha)
        else:
            log.warning("%s cannot hold transparency: the alpha channel is dropped (write .png, .webp or .tiff)", fmt)
    options: dict[str, object] = {}
    if picture.icc_profile:
        options["icc_profile"] = picture.icc_profile
    if fmt == "JPEG":
        # Full-resolution chroma at high quality: stylised images are rich in coloured detail.
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        options.update(quality=quality, method=4)
    elif fmt == "TIFF":
        options.update(compression="tiff_deflate")
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def write_image(path: str | os.PathLike[str], picture: Picture, quality: int = DEFAULT_QUALITY) -> None:
    """Encode by the extension and write atomically (no partial file, ever).

    Raises:
        SetupError: an extension stylize does not write.
        OutputError: the file cannot be written (naming it); nothing is left behind.
    """
    write_bytes_atomic(path, encode_image(picture, output_format(path), quality))
