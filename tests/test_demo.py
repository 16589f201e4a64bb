"""`make demo`: demo/demo.py with STYLIZE_WEIGHTS at the parity weights, and the bundled images."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).parent.parent
DEMO = ROOT / "demo"


def run_demo(out: Path, weights: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STYLIZE_WEIGHTS": str(weights), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(DEMO / "demo.py"), "--out", str(out), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_make_demo_runs_demo_py() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe is not None and "demo/demo.py" in recipe.group(1) and "demo-output" in recipe.group(1)


def test_demo_writes_sheets_and_outputs(parity_weights: Path, tmp_path: Path) -> None:
    """With released weights (the parity checkpoints stand in) the default is the papers' adaattn."""
    out = tmp_path / "demo-output"
    done = run_demo(out, parity_weights, "--cell", "48", "--size", "64")
    assert done.returncode == 0, done.stderr
    photos = sorted(p.stem for p in (DEMO / "photos").glob("*.jpg"))
    paintings = sorted(p.stem for p in (DEMO / "paintings").glob("*.jpg"))
    for model, sheet in (("adaattn", "sheet.png"), ("stya2k", "sheet-stya2k.png")):
        image = Image.open(out / sheet)
        # a column per painting and one for the photos, a row per photo and one for the paintings
        assert image.size == ((len(paintings) + 1) * (48 + 4) + 4, (len(photos) + 1) * (48 + 4) + 4)
        written = sorted(p.name for p in (out / model).iterdir())
        assert written == sorted(f"{p}_{s}.png" for p in photos for s in paintings)
        assert str(out / sheet) in done.stdout
    assert "The demo is ready" in done.stdout


def test_with_only_stylize_weights_the_demo_shows_the_best_carrier_first(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    done = run_demo(out, tmp_path / "no-weights", "--cell", "32", "--size", "48")
    assert done.returncode == 0, done.stderr
    assert "using stya2k: no released adaattn weights were found" in done.stderr
    assert f"{'stya2k':<8} contact sheet {out / 'sheet.png'}" in done.stdout
    assert f"{'adaattn':<8} contact sheet {out / 'sheet-adaattn.png'}" in done.stdout


def test_the_demo_shows_paintings_that_training_never_read() -> None:
    """Two demo paintings are copies of held-out images (tests/data/heldout, disjoint from training:
    tests/metrics/test_gates.py)."""
    heldout = ROOT / "tests" / "data" / "heldout" / "paintings"
    paintings = sorted((DEMO / "paintings").glob("*.jpg"))
    unseen = [
        p.name for p in paintings if (heldout / p.name).is_file() and (heldout / p.name).read_bytes() == p.read_bytes()
    ]
    assert unseen == ["hiroshige_horse_mackerel_and_prawn.jpg", "kandinsky_composition_viii.jpg"]


def test_demo_without_weights_says_so(tmp_path: Path) -> None:
    from stylize.weights.locate import bundled_files
    from stylize.weights.registry import get_spec

    if bundled_files(get_spec("adaattn")) is not None:
        pytest.skip("stylize ships its own AdaAttN weights: the demo runs without any")
    empty = tmp_path / "no-weights"
    empty.mkdir()
    done = run_demo(tmp_path / "out", empty)
    assert done.returncode == 2
    assert "no weights for adaattn" in done.stderr and "hint:" in done.stderr
    assert not (tmp_path / "out").exists()


def test_bundled_demo_images_are_small_and_documented() -> None:
    sources = (DEMO / "SOURCES.md").read_text()
    images = sorted([*(DEMO / "photos").glob("*.jpg"), *(DEMO / "paintings").glob("*.jpg")])
    assert len(images) >= 4
    for path in images:
        assert max(Image.open(path).size) <= 512, path
        assert f"`{path.parent.name}/{path.name}`" in sources, f"{path.name} has no SOURCES.md row"
    assert sorted(p.name for p in (DEMO / "paintings").glob("*.jpg")) == [
        "hiroshige_horse_mackerel_and_prawn.jpg", "kandinsky_composition_viii.jpg", "van_gogh_starry_night.jpg",
    ]  # fmt: skip
