"""stylize.media.video.writer: frames, timing, rotation, odd sizes and audio kept through a copy."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from stylize.media.video.codecs import EncodeSettings, can_copy_audio
from tests.clips import make_clip, moving_frames, read_clip
from tests.media.video.copying import copy_through


def test_frames_rate_size_and_audio_are_kept(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=18, fps=24)
    warnings, notes = copy_through(src, tmp_path / "out.mp4", invert=True)
    a, b = read_clip(src), read_clip(tmp_path / "out.mp4")
    assert warnings == []
    assert len(b["frames"]) == len(a["frames"]) == 18
    assert b["fps"] == a["fps"] == 24
    assert (b["width"], b["height"]) == (64, 48)
    assert b["times"] == pytest.approx(a["times"], abs=1e-3)
    assert b["codec"] == "h264" and b["pix_fmt"] == "yuv420p"
    assert notes == ["audio copied (aac)"]
    assert b["audio"]["codec"] == "aac" and b["audio"]["rate"] == a["audio"]["rate"]
    assert b["audio"]["duration"] == pytest.approx(a["audio"]["duration"], abs=0.03)
    assert b["audio"]["rms"] == pytest.approx(0.3 / np.sqrt(2), rel=0.1)  # the sine tone, unchanged
    # the pictures are the (inverted) input, up to compression
    diff = np.abs((255 - a["frames"][9].astype(int)) - b["frames"][9].astype(int)).mean()
    assert diff < 6


def test_variable_frame_rate_timestamps_are_kept(tmp_path):
    pts = [0, 40, 80, 200, 240, 400, 440, 480, 520, 700, 740, 780]  # milliseconds, irregular
    src = make_clip(tmp_path / "vfr.mp4", frames=len(pts), pts=pts, time_base=Fraction(1, 1000))
    copy_through(src, tmp_path / "out.mp4")
    out = read_clip(tmp_path / "out.mp4")
    assert out["times"] == pytest.approx([p / 1000 for p in pts], abs=1e-3)
    assert out["duration"] == pytest.approx(read_clip(src)["duration"], abs=1e-3)  # the last frame's length too


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_is_kept(tmp_path, rotation):
    src = make_clip(tmp_path / "phone.mp4", frames=4, rotation=rotation, audio=False)
    copy_through(src, tmp_path / "out.mp4")
    out = read_clip(tmp_path / "out.mp4")
    assert out["rotation"] % 360 == rotation % 360
    assert (out["width"], out["height"]) == (64, 48)  # coded size; players turn it


def test_odd_size_is_padded_by_one_repeated_edge_pixel(tmp_path):
    frames = moving_frames(6, 49, 65)
    src = make_clip(tmp_path / "odd.mp4", width=65, height=49, frames=6, images=frames, pix_fmt="yuv444p")
    copy_through(src, tmp_path / "out.mp4")
    out = read_clip(tmp_path / "out.mp4")
    assert (out["width"], out["height"]) == (66, 50)
    picture = out["frames"][3].astype(int)
    original = read_clip(src)["frames"][3].astype(int)
    assert np.abs(picture[:49, :65] - original).mean() < 6  # not scaled: every pixel in place
    assert np.abs(picture[49] - picture[48]).mean() < 6  # the extra row repeats the edge
    assert np.abs(picture[:, 65] - picture[:, 64]).mean() < 6


def test_odd_size_kept_exactly_with_yuv444p(tmp_path):
    src = make_clip(tmp_path / "odd.mp4", width=65, height=49, frames=4, pix_fmt="yuv444p", audio=False)
    copy_through(src, tmp_path / "out.mp4", EncodeSettings(pix_fmt="yuv444p"))
    out = read_clip(tmp_path / "out.mp4")
    assert (out["width"], out["height"], out["pix_fmt"]) == (65, 49, "yuv444p")


def test_no_audio_gives_no_audio(tmp_path):
    src = make_clip(tmp_path / "silent.mp4", frames=4, audio=False)
    warnings, notes = copy_through(src, tmp_path / "out.mp4")
    assert notes == [] and read_clip(tmp_path / "out.mp4")["audio"] is None


def test_pcm_audio_is_re_encoded_for_mp4_and_copied_for_mkv(tmp_path):
    src = make_clip(tmp_path / "pcm.mov", frames=12, audio_codec="pcm_s16le")
    _, notes = copy_through(src, tmp_path / "out.mp4")
    assert notes == ["audio re-encoded pcm_s16le -> aac (.mp4 cannot hold pcm_s16le)"]
    out = read_clip(tmp_path / "out.mp4")["audio"]
    assert out["codec"] == "aac" and out["duration"] == pytest.approx(0.48, abs=0.05)
    assert out["rms"] == pytest.approx(0.3 / np.sqrt(2), rel=0.1)
    _, notes = copy_through(src, tmp_path / "out.mkv")
    assert notes == ["audio copied (pcm_s16le)"]
    assert can_copy_audio("aac", "mp4") and not can_copy_audio("aac", "webm")


def test_webm_gets_vp9_and_opus(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=6)
    _, notes = copy_through(src, tmp_path / "out.webm", EncodeSettings(codec="vp9"))
    out = read_clip(tmp_path / "out.webm")
    assert out["codec"] == "vp9" and out["audio"]["codec"] == "opus" and len(out["frames"]) == 6
    assert notes == ["audio re-encoded aac -> opus (.webm cannot hold aac)"]
