"""stylize.media.video: reading and writing video files, without a model (frames copied through)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from stylize.errors import InputError, OutputError, SetupError
from stylize.media.video import (
    AudioPacket,
    EncodeSettings,
    Frame,
    VideoReader,
    VideoWriter,
    can_copy_audio,
    even_size,
    plan_output,
    probe,
    rotation_of,
)
from tests.clips import make_audio_only, make_clip, moving_frames, read_clip


def copy_through(src: Path, dst: Path, settings: EncodeSettings | None = None, invert: bool = False, **reading):
    """Read `src` and write its frames (optionally inverted) to `dst`, as the video job does."""
    plan = plan_output(dst, settings or EncodeSettings())
    with VideoReader(src, **reading) as reader:
        writer, pending = None, []
        for item in reader:
            if isinstance(item, AudioPacket):
                (pending.append(item) if writer is None else writer.write_audio(item))
                continue
            if writer is None:
                h, w = item.image.shape[:2]
                writer = VideoWriter(plan, width=w, height=h, info=reader.info, display_matrix=reader.display_matrix,
                                     audio_streams=reader.audio_streams)  # fmt: skip
                for packet in pending:
                    writer.write_audio(packet)
            writer.write(255 - item.image if invert else item.image, item.pts, item.duration)
        writer.close()
        return reader.warnings, writer.audio_notes


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


def test_probe_describes_the_file(tmp_path):
    info = probe(make_clip(tmp_path / "in.mp4", frames=16, fps=25))
    assert (info.width, info.height, info.frames, info.fps) == (64, 48, 16, 25)
    assert info.duration == pytest.approx(0.64, abs=0.05)
    assert info.audio and info.audio[0].codec == "aac"
    assert info.expected_frames() == 16
    assert info.expected_frames(start=0.2, duration=0.2) == 5


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


def test_rotation_of_display_matrix():
    assert rotation_of(None) == 0
    assert rotation_of((0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30)) == 90


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


def test_even_size():
    assert even_size(65, 49, "yuv420p") == (66, 50)
    assert even_size(65, 49, "yuv422p") == (66, 49)
    assert even_size(65, 49, "yuv444p") == (65, 49)
    assert even_size(64, 48, "yuv420p") == (64, 48)


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


def test_zero_frame_video(tmp_path):
    import av

    path = tmp_path / "zero.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    with pytest.raises(InputError, match="contains no video frames"):
        probe(path)


def test_range_after_the_end_has_no_frames(tmp_path):
    src = make_clip(tmp_path / "in.mp4", frames=5, audio=False)
    with pytest.raises(InputError, match="has no video frames after 9 s"), VideoReader(src, start=9) as reader:
        list(reader)


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
