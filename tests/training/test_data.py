"""Training data: pictures read as every user picture is, folders scanned with the suffixes of media.formats."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from stylize.errors import InputError
from stylize.media.formats import IMAGE_EXTENSIONS
from stylize.media.images import MAX_PIXELS_ENV
from stylize.training.data import ImagePool, list_images, load_image
from tests.imagefiles import animated_gif, exif_rotated_jpeg, rgb

CPU = torch.device("cpu")


def pixels(path: Path) -> torch.Tensor:
    """(3, H, W) uint8 of a file as stored (no EXIF handling)."""
    import numpy as np

    with Image.open(path) as image:
        return torch.from_numpy(np.asarray(image.convert("RGB")).copy()).permute(2, 0, 1)


def test_folders_are_scanned_with_the_suffixes_of_media_formats(tmp_path):
    for i, suffix in enumerate(sorted(IMAGE_EXTENSIONS)):
        rgb(tmp_path / "deep" / f"a{i}{suffix.upper() if i % 2 else suffix}", 16, 16)
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "clip.mp4").write_bytes(b"")
    found = list_images([tmp_path])
    assert [p.suffix.lower() for p in found] == sorted(IMAGE_EXTENSIONS)
    assert found == sorted(found)


def test_pictures_are_read_upright_like_every_user_picture(tmp_path):
    image = load_image(exif_rotated_jpeg(tmp_path / "r.jpg"), long_side=512)
    assert image.dtype == torch.uint8 and image.shape == (3, 64, 48)  # stored 64x48 wide, upright 48x64 tall
    top, bottom = image[:, :8].float().mean(dim=(1, 2)), image[:, -8:].float().mean(dim=(1, 2))
    assert top[0] > 200 and top[2] < 50 and bottom[2] > 200 and bottom[0] < 50  # red on top, blue below


def test_an_animated_picture_gives_its_first_frame(tmp_path):
    image = load_image(animated_gif(tmp_path / "a.gif"), long_side=512)
    assert image.shape == (3, 30, 40)
    assert image[0].float().mean() > 250 and image[1:].float().mean() < 5


def test_large_pictures_are_reduced_and_huge_ones_refused(tmp_path, monkeypatch):
    path = rgb(tmp_path / "wide.png", 100, 40)
    assert load_image(path, long_side=50).shape == (3, 20, 50)
    assert torch.equal(load_image(path, long_side=100), pixels(path))
    monkeypatch.setenv(MAX_PIXELS_ENV, "1000")
    with pytest.raises(InputError, match="wide.png.*over the limit"):
        load_image(path, long_side=50)


def test_an_unreadable_picture_names_the_file(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(InputError, match="broken.jpg"):
        ImagePool([tmp_path / "broken.jpg"], 64, CPU)
