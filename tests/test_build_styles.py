"""scripts/build_styles.py: many training styles from a few paintings, photos and texture patterns."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from tests.scripttools import SCRIPTS, load_script

HELDOUT_PAINTING = SCRIPTS.parent / "tests" / "data" / "heldout" / "paintings" / "kandinsky_composition_viii.jpg"


@pytest.fixture()
def build_styles(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))  # it imports its sibling scripts
    return load_script("build_styles")


def picture(path, seed, size=(96, 64)):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, 3)
    noise = rng.integers(-40, 40, (size[1], size[0], 3))
    Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(path)
    return path


def test_builds_recolourings_textures_and_filtered_photos(tmp_path, build_styles):
    paintings = [picture(tmp_path / f"p{i}.png", i) for i in range(3)]
    photos = [picture(tmp_path / f"c{i}.png", 10 + i) for i in range(3)]
    patterns = tmp_path / "work" / build_styles.KRITA_PATTERNS
    patterns.mkdir(parents=True)
    grain = (np.indices((256, 256)).sum(0) % 7 * 30).astype(np.uint8)
    Image.fromarray(grain).save(patterns / "grain.png")
    rows = build_styles.build(paintings, photos, tmp_path / "work", tmp_path / "out", seed=0)

    per_painting = 1 + build_styles.RECOLOURINGS
    assert len(list((tmp_path / "out" / "palette").glob("*.jpg"))) == 3 * per_painting
    assert len(list((tmp_path / "out" / "texture").glob("*.jpg"))) == build_styles.TEXTURE_COLOURINGS
    assert len(list((tmp_path / "out" / "npr").glob("*.jpg"))) == 3
    assert len(rows) == 3 * per_painting + build_styles.TEXTURE_COLOURINGS + 3
    # A recolouring keeps the painting's layout but not its colours.
    original = np.asarray(Image.open(tmp_path / "out" / "palette" / "p0-original.jpg"), np.float32)
    recoloured = [np.asarray(Image.open(p), np.float32) for p in (tmp_path / "out" / "palette").glob("p0-*")]
    assert max(float(np.abs(r.mean((0, 1)) - original.mean((0, 1))).max()) for r in recoloured) > 20
    # The same seed gives the same styles.
    again = build_styles.build(paintings, photos, tmp_path / "work", tmp_path / "again", seed=0)
    assert again == rows
    assert (tmp_path / "again" / "texture" / "grain-0.jpg").read_bytes() == (
        tmp_path / "out" / "texture" / "grain-0.jpg"
    ).read_bytes()


def test_refuses_a_held_out_painting(tmp_path, build_styles):
    painting = shutil.copy(HELDOUT_PAINTING, tmp_path / "renamed.jpg")
    with pytest.raises(SystemExit, match="renamed.jpg is the same file as held-out"):
        build_styles.build([painting, picture(tmp_path / "p.png", 1)], [], tmp_path / "work", tmp_path / "out", 0)
