"""stylize.media.video.reader: ranges, resizing, display matrices and damaged files."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from stylize.errors import InputError
from stylize.media.video.probe import probe
from stylize.media.video.reader import Frame, VideoReader, check_complete, rotation_of
from tests.clips import damaged_copy, garbled_copy, make_clip, read_clip
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


def read_all(path, **reading):
    with VideoReader(path, **reading) as reader:
        frames = [item for item in reader if isinstance(item, Frame)]
        return frames, reader.warnings


def test_a_file_cut_short_is_damaged(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=40, options={"movflags": "+faststart"})
    cut = damaged_copy(src, tmp_path / "clip.mp4", frames=1)
    assert probe(cut).frames == 40  # the index still promises them all
    with pytest.raises(InputError) as error:
        read_all(cut)
    assert str(error.value) == f"{cut}: damaged: 1 of 40 frames decoded"


def test_check_complete_finds_a_cut_file_without_decoding(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=40, options={"movflags": "+faststart"})
    cut = damaged_copy(src, tmp_path / "clip.mp4", frames=1)
    with pytest.raises(InputError) as error:
        check_complete(cut)
    assert str(error.value) == f"{cut}: damaged: 1 of 40 frames in the file"
    with pytest.raises(InputError, match=r"clip.mp4: damaged: corrupt video data after 10 of 40 frames$"):
        check_complete(damaged_copy(src, cut, frames=10, mid_packet=True))
    half = damaged_copy(src, cut, frames=20)
    assert check_complete(half, duration=0.6).frames == 40  # the range asked for is all there
    with pytest.raises(InputError, match=r"damaged: 10 of 15 frames in the file$"):
        check_complete(half, start=0.4, duration=0.6)
    assert check_complete(src, start=0.4, duration=10.0).frames == 40


def test_corrupt_data_after_the_first_frames_is_damaged_at_once(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=40, options={"movflags": "+faststart"})
    cut = damaged_copy(src, tmp_path / "clip.mp4", frames=10, mid_packet=True)
    given = []
    with (
        pytest.raises(InputError, match=r"clip.mp4: damaged: corrupt video data after \d+ of 40 frames$"),
        VideoReader(cut) as reader,
    ):
        given.extend(item for item in reader if isinstance(item, Frame))
    assert 0 < len(given) <= 10  # nothing past the fault


def test_a_decoder_error_mid_stream_is_damaged(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=40, audio=False, options={"movflags": "+faststart"})
    bad = garbled_copy(src, tmp_path / "clip.mp4", frame=10)
    check_complete(bad)  # every packet is there: only decoding finds it
    with pytest.raises(InputError, match=r"clip.mp4: damaged: the decoder failed after \d+ of 40 frames \(.+\)$"):
        read_all(bad)


def test_a_missing_frame_or_two_is_within_tolerance(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=40, audio=False, options={"movflags": "+faststart"})
    frames, warnings = read_all(damaged_copy(src, tmp_path / "clip.mp4", frames=39))
    assert len(frames) == 39 and warnings == []


def test_short_and_variable_rate_files_are_not_damaged(tmp_path):
    pts = [0, 40, 80, 200, 240, 400, 440, 480, 520, 700, 740, 1780]  # milliseconds; the last frame is long
    vfr = make_clip(tmp_path / "vfr.mp4", frames=len(pts), pts=pts, time_base=Fraction(1, 1000))
    late = make_clip(tmp_path / "late.mp4", frames=12, pts=[1000 + 40 * i for i in range(12)],
                     time_base=Fraction(1, 1000))  # fmt: skip
    long_sound = make_clip(tmp_path / "sound.mp4", frames=10, audio_seconds=3.0)
    ranges = ({}, {"start": 0.3}, {"start": 0.2, "duration": 100.0})
    for path, reading in [(p, r) for p in (vfr, late, long_sound) for r in ranges] + [
        (make_clip(tmp_path / "one.mkv", frames=1), {})
    ]:
        check_complete(path, **reading)
        frames, warnings = read_all(path, **reading)
        assert frames and warnings == [], (path.name, reading, warnings)


def test_a_cut_file_that_states_only_a_container_duration_is_reported(tmp_path):
    src = make_clip(tmp_path / "in.webm", frames=40, codec="libvpx-vp9", audio=False)
    cut = tmp_path / "clip.webm"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    check_complete(cut)  # no frame count or stream duration to hold it to: a warning, not an error
    frames, warnings = read_all(cut)
    assert 0 < len(frames) < 40
    assert len(warnings) == 1 and "clip.webm: the video ends at" in warnings[0] and "may be truncated" in warnings[0]


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
