"""stylize.media.video.reader: ranges, resizing, display matrices and damaged files."""

from __future__ import annotations

import numpy as np
import pytest

from stylize.errors import InputError
from stylize.media.video.reader import Frame, VideoReader, rotation_of
from tests.clips import make_clip, read_clip
from tests.media.video.copying import copy_through


def test_start_and_duration_select_a_range(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=25, fps=25)
    copy_through(src, tmp_path / "out.mp4", start=0.4, duration=0.4)
    a, b = read_clip(src), read_clip(tmp_path / "out.mp4")
    assert len(b["frames"]) == 10
    assert b["times"][0] == pytest.approx(0.0, abs=1e-3)
    assert b["audio"]["duration"] == pytest.approx(0.4, abs=0.05)
    # the first output frame is input frame 10 (at 0.4 s)
    assert (
        np.abs(b["frames"][0].astype(int) - a["frames"][10]).mean()
        < np.abs(b["frames"][0].astype(int) - a["frames"][8]).mean()
    )


def test_resize_on_reading(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=2, audio=False)
    with VideoReader(src, size=(24, 32)) as reader:
        frames = [item for item in reader if isinstance(item, Frame)]
    assert frames[0].image.shape == (24, 32, 3) and frames[0].image.dtype == np.uint8


def test_rotation_of_display_matrix():
    assert rotation_of(None) == 0
    assert rotation_of((0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30)) == 90


def test_corrupt_tail_keeps_what_decodes_and_warns(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=24, options={"movflags": "+faststart"})
    data = src.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    warnings, _ = copy_through(cut, tmp_path / "out.mp4")
    decoded = len(read_clip(tmp_path / "out.mp4")["frames"])
    assert 0 < decoded < 24
    assert len(warnings) == 1 and "truncated" in warnings[0] and f"the {decoded} frames" in warnings[0]


def test_no_frame_decodes(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=8, audio=False, options={"movflags": "+faststart"})
    data = src.read_bytes()
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(data[: data.find(b"mdat") + 8])  # the index, no picture data
    with pytest.raises(InputError, match="no video frame could be decoded"), VideoReader(empty) as reader:
        list(reader)


def test_range_after_the_end_has_no_frames(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=5, audio=False)
    with pytest.raises(InputError, match="has no video frames after 9 s"), VideoReader(src, start=9) as reader:
        list(reader)
