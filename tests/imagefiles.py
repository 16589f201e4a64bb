"""Small image files of every awkward kind, for the media and command-line tests."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ORIENTATION = 0x0112


def noise(width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    """A smooth RGB uint8 array (H, W, 3): low-frequency noise, so JPEG keeps it well."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((max(2, height // 8), max(2, width // 8), 3))
    image = Image.fromarray((coarse * 255).astype(np.uint8)).resize((width, height), Image.BILINEAR)
    return np.asarray(image)


def rgb(path: Path, width: int = 64, height: int = 48, seed: int = 0, **save: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(noise(width, height, seed)).save(path, **save)
    return path


def halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue."""
    array = np.zeros((height, width, 3), np.uint8)
    array[:, : width // 2] = (255, 0, 0)
    array[:, width // 2 :] = (0, 0, 255)
    return Image.fromarray(array)


def exif_rotated_jpeg(path: Path) -> Path:
    """Stored 64x48 (red left, blue right) with EXIF orientation 6: upright it is 48x64, red on top."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    halves(64, 48).save(path, exif=exif.tobytes(), quality=95)
    return path


def animated_gif(path: Path) -> Path:
    """Three frames: red, green, blue."""
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def odd_images(folder: Path) -> dict[str, Path]:
    """Files that must all work: grayscale, palette, CMYK, 16-bit, alpha, animated, rotated."""
    folder.mkdir(parents=True, exist_ok=True)
    base = Image.fromarray(noise(64, 48, seed=3))
    alpha = Image.linear_gradient("L").resize((64, 48))
    files = {}
    base.convert("L").save(files.setdefault("gray", folder / "gray.png"))
    base.convert("P", palette=Image.Palette.ADAPTIVE).save(files.setdefault("palette", folder / "palette.png"))
    base.convert("P", palette=Image.Palette.ADAPTIVE).save(
        files.setdefault("palette_transparent", folder / "palette_transparent.png"), transparency=0
    )
    base.convert("CMYK").save(files.setdefault("cmyk", folder / "cmyk.jpg"), quality=95)
    wide = (np.asarray(base.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(wide).save(files.setdefault("gray16", folder / "gray16.png"))
    rgba = base.copy()
    rgba.putalpha(alpha)
    rgba.save(files.setdefault("rgba", folder / "rgba.png"))
    la = base.convert("L")
    la.putalpha(alpha)
    la.save(files.setdefault("gray_alpha", folder / "gray_alpha.png"))
    files["animated"] = animated_gif(folder / "animated.gif")
    files["rotated"] = exif_rotated_jpeg(folder / "rotated.jpg")
    return files


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(path: Path, width: int = 40000, height: int = 40000) -> Path:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\0" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))
    return path


def truncated_jpeg(path: Path) -> Path:
    full = path.with_name("full-" + path.name)
    rgb(full, 64, 48, quality=95)
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: len(data) // 2])
    return path


def bad_inputs(folder: Path) -> dict[str, Path]:
    """Every file the issue lists as bad input; each must give one clear line."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a folder.png").mkdir()
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("this is not a picture\n")
    return {
        "missing": folder / "missing.png",
        "folder": folder / "a folder.png",
        "empty": folder / "empty.png",
        "truncated": truncated_jpeg(folder / "truncated.jpg"),
        "text": folder / "text.png",
        "bomb": bomb_png(folder / "bomb.png"),
    }


# What each bad input's one line says (after "PATH: ").
BAD_MESSAGES = {
    "missing": "no such file",
    "folder": "is a folder, not an image file",
    "empty": "empty file (0 bytes)",
    "truncated": "truncated or corrupt image",
    "text": "not an image file: unknown format (its name says png, its content is not)",
    "bomb": "40000x40000 is 1600 megapixels, over the limit of 200; refused before decoding",
}


def style_folder(folder: Path) -> Path:
    """Two small styles, wave.jpg and ink.png, in `folder`."""
    rgb(folder / "wave.jpg", 40, 40, seed=5)
    rgb(folder / "ink.png", 48, 32, seed=6)
    return folder


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by its relative path: what a run wrote, to compare byte for byte."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
