"""stylize.metrics.temporal and `stylize metrics temporal`: warping error and style distance."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from stylize.metrics.temporal import (
    align,
    feature_statistics,
    masked_warp_error,
    measure_videos,
    pair_warping_error,
    sample_indices,
    style_distance,
    warping_error,
)
from tests.clips import make_clip, moving_frames, read_clip

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class TinyEncoder(torch.nn.Module):
    """Stands in for the VGG encoder: `features()` gives the image and two pooled copies."""

    def features(self, image, upto=5):
        feats = [image]
        for _ in range(upto - 1):
            feats.append(torch.nn.functional.avg_pool2d(feats[-1], 2, ceil_mode=True))
        return feats


def test_consistent_output_has_the_input_floor_and_flicker_raises_it():
    frames = moving_frames(6, 48, 64)
    floor = warping_error(frames, frames).mean
    assert floor < 2e-3  # the moving texture is followed by the flow
    rng = np.random.default_rng(0)
    flicker = [np.clip(f / 255.0 + rng.normal(0, 0.1, f.shape), 0, 1) for f in frames]
    noisy = warping_error(frames, flicker)
    assert noisy.mean > 10 * floor
    # independent noise of sigma 0.1 on both frames: E[(a - b)^2] summed over 3 channels = 6 * 0.01
    assert noisy.mean == pytest.approx(0.06, rel=0.25)
    assert len(noisy.pairs) == 5


def test_pair_error_is_a_masked_mean_over_reliable_pixels():
    a, b = moving_frames(2, 48, 64)
    assert pair_warping_error(a, b, a, b) == pytest.approx(warping_error([a, b], [a, b]).mean)
    flow = np.zeros((4, 4, 2), np.float32)
    out_t = np.zeros((4, 4, 3), np.float32)
    out_next = np.full((4, 4, 3), 0.5, np.float32)
    mask = np.zeros((4, 4), np.float32)
    mask[0, 0] = 1.0
    assert masked_warp_error(out_t, out_next, flow, mask) == pytest.approx(3 * 0.25)  # one pixel, 3 channels
    # no reliable pixel: divided by H * W * C, as Lai et al. (the masked sum is then 0)
    assert masked_warp_error(out_t, out_next, flow, np.zeros((4, 4), np.float32)) == 0.0
    with pytest.raises(ValueError, match="at least two frames"):
        warping_error([a], [a])


def test_style_distance_is_the_adain_style_loss():
    encoder = TinyEncoder()
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    stats = feature_statistics(encoder, image)
    assert len(stats) == 5 and stats[0][0].shape == (3,)
    assert style_distance(stats, stats) == 0.0
    flat = feature_statistics(encoder, torch.full_like(image, 0.5))
    assert style_distance(flat, stats) > 0.0
    # washing the style out (halving its contrast) moves the statistics away
    washed = feature_statistics(encoder, 0.5 * image + 0.25)
    assert 0.0 < style_distance(washed, stats) < style_distance(flat, stats)


def test_sample_indices():
    assert sample_indices(5, 8) == [0, 1, 2, 3, 4]
    assert sample_indices(100, 3) == [0, 50, 99]
    assert sample_indices(10, 1) == [0]


def test_align_crops_padding_and_resizes_other_sizes():
    frame_in = np.zeros((49, 65, 3), np.uint8)
    a, b = align(frame_in, np.zeros((50, 66, 3), np.uint8))
    assert a.shape == b.shape == (49, 65, 3)
    a, b = align(frame_in, np.zeros((24, 32, 3), np.uint8))
    assert a.shape == b.shape == (24, 32, 3)


def test_measure_videos(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=8, audio=False)
    report = measure_videos(src, src, encoder=TinyEncoder(), style=torch.rand(1, 3, 32, 32), style_name="s.png",
                            style_samples=3)  # fmt: skip
    assert report.frames == 8 and report.size == (64, 48)
    assert report.warping_error == pytest.approx(report.input_warping_error)
    assert report.style_frames == 3 and report.style_distance == pytest.approx(report.input_style_distance)
    assert report.colour_distance == pytest.approx(report.input_colour_distance) and report.colour_distance > 0
    assert json.loads(json.dumps(report.as_dict()))["flow"] == "dis"


def test_cli_json_and_table(tmp_path):
    from stylize.cli.main import cli

    src = make_clip(tmp_path / "in.mp4", frames=6, audio=False)
    runner = CliRunner()
    result = runner.invoke(cli, ["metrics", "temporal", str(src), str(src), "--json", "--max-frames", "4"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["frames"] == 4 and data["warping_error"] == pytest.approx(data["input_warping_error"])
    assert data["style_distance"] is None
    result = runner.invoke(cli, ["metrics", "temporal", str(src), str(src), "--flow", "farneback"])
    assert result.exit_code == 0 and "warping error" in result.stdout


def test_cli_style_distance_uses_the_model_encoder(tmp_path, parity_weights):
    from PIL import Image

    from stylize.cli.main import cli

    src = make_clip(tmp_path / "in.mp4", frames=4, audio=False)
    Image.fromarray(moving_frames(1, 40, 40)[0]).save(tmp_path / "style.png")
    args = ["metrics", "temporal", str(src), str(src), "--json", "--style", str(tmp_path / "style.png")]
    args += ["--style-size", "64", "--style-frames", "2", "--weights", str(parity_weights), "--device", "cpu"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["style_frames"] == 2 and data["style_distance"] > 0


def test_cli_errors_name_the_file(tmp_path):
    from stylize.cli.main import cli

    src = make_clip(tmp_path / "in.mp4", frames=4, audio=False)
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    result = CliRunner().invoke(cli, ["metrics", "temporal", str(src), str(bad)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[0].startswith(f"error: {bad}: not a video file")
    one = make_clip(tmp_path / "one.mp4", frames=1, audio=False)
    result = CliRunner().invoke(cli, ["metrics", "temporal", str(one), str(one)])
    assert result.exit_code == 1 and "at least two frames" in result.stderr
    assert read_clip(src)["frames"]  # untouched


def test_colour_distance_falls_as_the_output_takes_the_styles_colours(tmp_path):
    """Frames painted in the style's colour are nearer it than the input (the encoder plays no part)."""
    src = make_clip(tmp_path / "in.mp4", frames=4, audio=False)
    red_frames = [np.full((48, 64, 3), (230, 20, 20), np.uint8)] * 4
    red = make_clip(tmp_path / "red.mp4", frames=4, audio=False, images=red_frames)
    style = torch.zeros(1, 3, 32, 32)
    style[:, 0] = 0.9
    report = measure_videos(src, red, encoder=TinyEncoder(), style=style, style_samples=2)
    assert report.colour_distance < 0.5 * report.input_colour_distance
