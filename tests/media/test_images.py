"""The image decoder and encoder: awkward files in, clean pictures out, one clear error otherwise."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from stylize.errors import InputError, SetupError
from stylize.media.images import (
    DEFAULT_MAX_PIXELS,
    Picture,
    bound_picture,
    decode_image,
    encode_image,
    max_pixels_default,
    read_image,
    write_image,
)
from tests.imagefiles import BAD_MESSAGES, bad_inputs, bomb_png, noise, odd_images, rgb


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return odd_images(tmp_path_factory.mktemp("odd"))


@pytest.mark.parametrize(
    "name, mode, has_alpha",
    [
        ("gray", "L", False),
        ("palette", "P", False),
        ("palette_transparent", "P", True),
        ("cmyk", "CMYK", False),
        ("gray16", "I;16", False),
        ("rgba", "RGBA", True),
        ("gray_alpha", "LA", True),
    ],
)
def test_every_mode_becomes_rgb_with_its_alpha(odd: dict[str, Path], name: str, mode: str, has_alpha: bool) -> None:
    picture = read_image(odd[name])
    assert picture.mode == mode
    assert picture.rgb.mode == "RGB" and picture.rgb.size == (64, 48)
    assert (picture.alpha is not None) == has_alpha
    if has_alpha:
        assert picture.alpha.mode == "L" and picture.alpha.size == (64, 48)


def test_16_bit_is_scaled_not_clipped(odd: dict[str, Path]) -> None:
    eight = np.asarray(read_image(odd["gray"]).rgb)
    sixteen = np.asarray(read_image(odd["gray16"]).rgb)
    assert np.array_equal(eight, sixteen)  # v * 257 -> v
    assert sixteen.max() > 100  # Pillow's own conversion would clip to white


def test_animated_gif_gives_its_first_frame(odd: dict[str, Path]) -> None:
    picture = read_image(odd["animated"])
    assert picture.frames == 3
    assert picture.rgb.getpixel((5, 5)) == (255, 0, 0)


def test_exif_orientation_is_applied(odd: dict[str, Path]) -> None:
    picture = read_image(odd["rotated"])
    assert picture.size == (48, 64)  # stored 64x48, orientation 6
    top, bottom = picture.rgb.getpixel((24, 4)), picture.rgb.getpixel((24, 60))
    assert top[0] > 200 and top[2] < 60, top  # red on top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


@pytest.mark.parametrize("kind", list(BAD_MESSAGES))
def test_bad_inputs_are_one_line_naming_the_file(tmp_path: Path, kind: str) -> None:
    path = bad_inputs(tmp_path)[kind]
    with pytest.raises(InputError) as info:
        read_image(path)
    assert str(info.value).startswith(f"{path}: {BAD_MESSAGES[kind]}")
    assert "\n" not in str(info.value)


def test_the_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = bomb_png(tmp_path / "bomb.png", 100_000, 100_000)
    pillow_limit = Image.MAX_IMAGE_PIXELS
    start = time.perf_counter()
    with pytest.raises(InputError, match="100000x100000 is 10000 megapixels, over the limit of 200; refused"):
        read_image(bomb)
    assert time.perf_counter() - start < 1.0
    assert pillow_limit == Image.MAX_IMAGE_PIXELS  # Pillow's own limit is left as it was


def test_the_pixel_limit_is_adjustable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = rgb(tmp_path / "small.png")
    with pytest.raises(InputError, match="64x48 is 0 megapixels, over the limit of 0.001"):
        read_image(path, max_pixels=1000)
    monkeypatch.setenv("STYLIZE_MAX_PIXELS", "1000")
    assert max_pixels_default() == 1000
    with pytest.raises(InputError, match="over the limit"):
        read_image(path)
    monkeypatch.setenv("STYLIZE_MAX_PIXELS", "lots")
    with pytest.raises(SetupError, match="STYLIZE_MAX_PIXELS"):
        max_pixels_default()
    monkeypatch.delenv("STYLIZE_MAX_PIXELS")
    assert max_pixels_default() == DEFAULT_MAX_PIXELS


def test_decode_from_memory(tmp_path: Path) -> None:
    data = rgb(tmp_path / "a.png").read_bytes()
    assert decode_image(data).size == (64, 48)
    with pytest.raises(InputError, match="^stdin: empty input"):
        decode_image(b"")
    with pytest.raises(InputError, match="^stdin: not an image file: unknown format$"):
        decode_image(b"hello")


def test_encode_keeps_alpha_where_the_format_can(odd: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    picture = read_image(odd["rgba"])
    for fmt in ("PNG", "WEBP", "TIFF"):
        back = Image.open(io.BytesIO(encode_image(picture, fmt)))
        assert back.mode == "RGBA" and back.format == fmt
    png = Image.open(io.BytesIO(encode_image(picture, "PNG")))
    assert np.array_equal(np.asarray(png.getchannel("A")), np.asarray(picture.alpha))
    with caplog.at_level(logging.WARNING, logger="stylize"):
        jpeg = Image.open(io.BytesIO(encode_image(picture, "JPEG")))
    assert jpeg.mode == "RGB" and "alpha channel is dropped" in caplog.text


def test_jpeg_quality_and_rgb_profile(tmp_path: Path) -> None:
    picture = Picture(Image.fromarray(noise(64, 48)))
    assert len(encode_image(picture, "JPEG", quality=30)) < len(encode_image(picture, "JPEG", quality=95))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = rgb(tmp_path / "profiled.png", icc_profile=srgb)
    kept = read_image(path)
    assert kept.icc_profile == srgb
    assert Image.open(io.BytesIO(encode_image(kept, "JPEG"))).info.get("icc_profile") == srgb
    cmyk_profile = srgb[:16] + b"CMYK" + srgb[20:]
    assert read_image(rgb(tmp_path / "cmyk-profiled.png", icc_profile=cmyk_profile)).icc_profile is None


def test_write_image_by_extension(tmp_path: Path) -> None:
    picture = Picture(Image.fromarray(noise(64, 48)))
    for name, fmt in [("a.png", "PNG"), ("a.JPG", "JPEG"), ("a.jpeg", "JPEG"), ("a.webp", "WEBP"), ("a.tif", "TIFF")]:
        write_image(tmp_path / name, picture)
        assert Image.open(tmp_path / name).format == fmt
    with pytest.raises(SetupError, match=r"a\.bmp: cannot write images as \.bmp"):
        write_image(tmp_path / "a.bmp", picture)
    with pytest.raises(SetupError, match="a: no extension to choose the image format by"):
        write_image(tmp_path / "a", picture)
    assert not (tmp_path / "a.bmp").exists() and not (tmp_path / "a").exists()


def test_bound_picture_resizes_alpha_too(odd: dict[str, Path]) -> None:
    picture = read_image(odd["rgba"])
    small = bound_picture(picture, 32)
    assert small.size == (32, 24) and small.alpha is not None and small.alpha.size == (32, 24)
    assert bound_picture(picture, 100) is picture
    assert bound_picture(picture, None) is picture
