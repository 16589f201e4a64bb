"""Training data: pictures read as every user picture is, crops that are crops, draws only from our generator."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from PIL import Image

from stylize.errors import InputError
from stylize.media.formats import IMAGE_EXTENSIONS
from stylize.media.images import MAX_PIXELS_ENV
from stylize.training.data import CONTENT_AUGMENT, STYLE_AUGMENT, Augment, ImagePool, list_images, load_image
from tests.imagefiles import animated_gif, exif_rotated_jpeg, rgb

NO_JITTER = Augment(brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0)
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


@pytest.fixture
def pool(tmp_path) -> ImagePool:
    return ImagePool([rgb(tmp_path / "a.png", 48, 40, seed=1), rgb(tmp_path / "b.png", 32, 32, seed=2)], 64, CPU)


def test_a_crop_of_the_output_size_is_the_pixels_themselves(pool):
    exact = pool.images[0][:, 5:37, 7:39].float() / 255
    assert torch.equal(pool.crop(0, top=5, left=7, side=32, size=32), exact)
    whole = pool.sample(1, 32, replace(NO_JITTER, min_scale=1.0, max_scale=1.0, flip=False), _index_generator(pool, 1))
    assert torch.equal(whole[0], pool.images[1].float() / 255)  # b.png is 32x32: scale 1 takes all of it


def _index_generator(pool: ImagePool, index: int) -> torch.Generator:
    """A generator whose first draw of an image index is `index`."""
    for seed in range(100):
        g = torch.Generator().manual_seed(seed)
        if int(torch.randint(len(pool), (1,), generator=g)) == index:
            return torch.Generator().manual_seed(seed)
    raise AssertionError("no seed picks that image")


def test_crops_are_reduced_with_antialiasing(pool):
    # Stripes of period 2 average to grey when 32 pixels become 8 (a point sample would give 0 or 1);
    # the edge columns see a filter cut by the border.
    stripes = torch.zeros(3, 32, 32, dtype=torch.uint8)
    stripes[:, :, ::2] = 255
    pool.images[1] = stripes
    out = pool.crop(1, 0, 0, 32, 8)
    assert out.shape == (3, 8, 8)
    assert torch.allclose(out[:, :, 1:-1], torch.full((3, 8, 6), 0.5), atol=1e-6)


def test_flips_mirror_the_whole_crop(pool):
    whole = replace(NO_JITTER, min_scale=1.0, max_scale=1.0)
    picture = pool.images[1].float() / 255  # 32x32: at scale 1 a 32-pixel crop is all of it
    g = torch.Generator().manual_seed(5)
    seen = pool.sample(40, 32, whole, g)
    upright = sum(torch.equal(c, picture) for c in seen)
    mirrored = sum(torch.equal(c, picture.flip(-1)) for c in seen)
    assert upright > 0 and mirrored > 0


@pytest.mark.parametrize("augment", [CONTENT_AUGMENT, STYLE_AUGMENT])
def test_batches_depend_on_the_generator_state_only(pool, augment):
    g = torch.Generator().manual_seed(11)
    pool.sample(3, 24, augment, g)  # move the state somewhere
    state = g.get_state()
    torch.manual_seed(0)  # the global generator must not matter
    first = pool.sample(4, 24, augment, g, pairs=True)
    after = g.get_state()
    torch.manual_seed(1)
    g.set_state(state)
    again = pool.sample(4, 24, augment, g, pairs=True)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert torch.equal(g.get_state(), after)
    batch = first[0]
    assert batch.shape == (4, 3, 24, 24) and batch.dtype == torch.float32
    assert float(batch.min()) >= 0.0 and float(batch.max()) <= 1.0
