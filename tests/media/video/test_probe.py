"""stylize.media.video.probe: what a file's header says, and files that are no usable video."""

from __future__ import annotations

import pytest

from stylize.errors import InputError
from stylize.media.video.probe import probe
from tests.clips import make_audio_only, make_clip


def test_probe_describes_the_file(tmp_path):
    info = probe(make_clip(tmp_path / "in.mp4", frames=16, fps=25))
    assert (info.width, info.height, info.frames, info.fps) == (64, 48, 16, 25)
    assert info.duration == pytest.approx(0.64, abs=0.05)
    assert info.audio and info.audio[0].codec == "aac"
    assert info.expected_frames() == 16
    assert info.expected_frames(start=0.2, duration=0.2) == 5


def test_zero_frame_video(tmp_path):
    import av

    path = tmp_path / "zero.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    with pytest.raises(InputError, match="contains no video frames"):
        probe(path)


def test_not_a_video(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    with pytest.raises(InputError, match=r"notes.mp4: not a video file"):
        probe(text)
    with pytest.raises(InputError, match="no such file"):
        probe(tmp_path / "missing.mp4")


def test_still_image_is_not_a_video(tmp_path):
    from PIL import Image

    Image.new("RGB", (32, 24)).save(tmp_path / "photo.png")
    with pytest.raises(InputError, match="still image"):
        probe(tmp_path / "photo.png")


def test_audio_only_file(tmp_path):
    path = make_audio_only(tmp_path / "tone.m4a")
    with pytest.raises(InputError, match="audio-only"):
        probe(path)
