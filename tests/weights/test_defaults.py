"""stylize.weights.defaults: the model a user gets without -m follows what the installed weights reach."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stylize.weights import defaults, paths


def own_weights(root: Path, figures: dict[str, float]) -> Path:
    """A folder like weights/stylize/: a folder per model and the held-out figures beside them."""
    for name in figures:
        (root / name).mkdir(parents=True)
    models = {name: {"colour_top1": top1} for name, top1 in figures.items()}
    (root / defaults.QUALITY_FILE).write_text(json.dumps({"models": models}))
    return root


@pytest.fixture
def only_own_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "none"))
    root = own_weights(tmp_path / "own", {"adaattn": 0.28, "stya2k": 0.64, "adaattn-video": 0.12})
    monkeypatch.setattr(paths, "bundled_root", lambda: root)
    return root


def test_with_only_own_weights_the_best_carrier_of_styles_is_used_and_named(only_own_weights: Path) -> None:
    image, video = defaults.default_model("image"), defaults.default_model("video")
    assert image.name == video.name == "stya2k"
    assert image.why is not None and image.why.startswith("using stya2k: no released adaattn weights")
    assert "colour top-1 0.64 on held-out paintings against 0.28 for adaattn" in image.why
    assert video.why is not None and "-m adaattn-video" in video.why


def test_released_weights_keep_the_papers_default(only_own_weights: Path, parity_weights: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(parity_weights))  # the official files and names of all three
    assert defaults.default_model("image") == defaults.DefaultModel("adaattn")
    assert defaults.default_model("video") == defaults.DefaultModel("adaattn-video")


def test_weights_named_by_the_user_keep_the_papers_default(only_own_weights: Path, tmp_path: Path) -> None:
    assert defaults.default_model("image", weights=tmp_path) == defaults.DefaultModel("adaattn")


def test_the_papers_model_stays_when_its_own_weights_rank_best(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "none"))
    root = own_weights(tmp_path / "own", {"adaattn": 0.9, "stya2k": 0.64})
    monkeypatch.setattr(paths, "bundled_root", lambda: root)
    assert defaults.default_model("image") == defaults.DefaultModel("adaattn")
    assert defaults.default_model("video").name == "adaattn"  # adaattn-video ships no weights here


def test_without_recorded_figures_nothing_is_substituted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "none"))
    monkeypatch.setattr(paths, "bundled_root", lambda: None)
    assert defaults.default_model("video") == defaults.DefaultModel("adaattn-video")


def test_the_shipped_figures_name_stya2k_today() -> None:
    """What a new user gets today (weights/stylize/quality.json, from bench/quality.py --heldout)."""
    figures = defaults.bundled_quality()
    assert set(figures) == {"adaattn", "adaattn-video", "stya2k"}
    assert max(figures, key=lambda name: figures[name][defaults.RANK_BY]) == "stya2k"
