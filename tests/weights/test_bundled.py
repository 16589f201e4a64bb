"""stylize's own trained weights: found when nothing else is, loaded strictly, and announced."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import stylize
from stylize.cli.main import cli
from stylize.media.images import tensor_to_image
from stylize.weights.locate import bundled_files
from stylize.weights.registry import MODELS
from tests.conftest import ROOT, smooth_image


@pytest.fixture
def no_other_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "empty"))


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_ships_weights_that_load_and_run(name: str, no_other_weights: None) -> None:
    files = bundled_files(MODELS[name])
    assert files is not None and files.bundled
    assert all(
        ref.path.is_relative_to(ROOT / "weights" / "stylize")
        for f, ref in files.files.items()
        if f != "vgg_normalised.pth"
    )
    model = stylize.load_model(name, device="cpu")
    assert model.bundled
    out = model(smooth_image(40, 56), smooth_image(48, 48, seed=1))
    assert out.shape == (1, 3, 40, 56) and torch.isfinite(out).all()


def test_the_command_line_says_it_uses_its_own_weights(no_other_weights: None, tmp_path: Path) -> None:
    content, style = tmp_path / "content.png", tmp_path / "style.png"
    tensor_to_image(smooth_image(32, 48)).save(content)
    tensor_to_image(smooth_image(32, 32, seed=2)).save(style)
    result = CliRunner().invoke(cli, ["image", str(content), "-s", str(style), "-o", str(tmp_path / "out.png")])
    assert result.exit_code == 0, result.output
    # No model named, no released weights: the model whose own weights carry styles best, said once.
    assert "using stya2k: no released adaattn weights were found" in result.stderr
    assert "using stylize's own trained stya2k weights" in result.stderr
    assert (tmp_path / "out.png").is_file()
    named = ["image", str(content), "-s", str(style), "-o", str(tmp_path / "named.png"), "-m", "adaattn"]
    result = CliRunner().invoke(cli, named)
    assert result.exit_code == 0 and "using stylize's own trained adaattn weights" in result.stderr
    assert "using stya2k" not in result.stderr
