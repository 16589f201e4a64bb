"""stylize.media.video.codecs: output names, codecs and quality checked before any work; even frame sizes."""

from __future__ import annotations

import pytest

from stylize.errors import OutputError, SetupError
from stylize.media.video.codecs import EncodeSettings, even_size, plan_output


def test_even_size():
    assert even_size(65, 49, "yuv420p") == (66, 50)
    assert even_size(65, 49, "yuv422p") == (66, 49)
    assert even_size(65, 49, "yuv444p") == (65, 49)
    assert even_size(64, 48, "yuv420p") == (64, 48)


def test_plan_output_checks_names_codecs_and_quality(tmp_path):
    assert plan_output(tmp_path / "a.mp4", EncodeSettings()).options == {"crf": "18", "preset": "medium"}
    with pytest.raises(OutputError, match="unknown video format '.gif'"):
        plan_output(tmp_path / "a.gif", EncodeSettings())
    with pytest.raises(SetupError, match="cannot hold h264"):
        plan_output(tmp_path / "a.webm", EncodeSettings())
    with pytest.raises(SetupError, match="out of range"):
        plan_output(tmp_path / "a.mp4", EncodeSettings(crf=80))
    with pytest.raises(SetupError, match="not one of h264's"):
        plan_output(tmp_path / "a.mp4", EncodeSettings(preset="warp9"))
    with pytest.raises(SetupError, match="does not apply to ffv1"):
        plan_output(tmp_path / "a.mkv", EncodeSettings(codec="ffv1", crf=10))
    with pytest.raises(SetupError, match="unknown pixel format"):
        plan_output(tmp_path / "a.mp4", EncodeSettings(pix_fmt="rgb9000"))
