"""`stylize video`: good runs and every kind of bad input (one-line message, exit code, no file left)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from stylize.cli.main import cli
from tests.clips import damaged_copy, garbled_copy, make_audio_only, make_clip, moving_frames, read_clip

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture()
def style(tmp_path):
    from PIL import Image

    path = tmp_path / "style.png"
    Image.fromarray(moving_frames(1, 48, 48, seed=5)[0]).save(path)
    return path


def video(src, out, style, weights, *extra):
    args = ["video", str(src), "-s", str(style), "-o", str(out), "--weights", str(weights), "--device", "cpu",
            "--style-size", "64", *extra]  # fmt: skip
    return CliRunner().invoke(cli, args)


def files(folder):
    return sorted(p.name for p in folder.iterdir())


def assert_one_line_error(result, path, text, code=1):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: {path}: "), lines
    assert text in lines[0]
    assert len(lines) <= 2 and all(line.startswith("hint:") for line in lines[1:]), lines


def test_a_good_run(tmp_path, style, parity_weights):
    src = make_clip(tmp_path / "in.mp4", frames=6)
    result = video(src, tmp_path / "out.mp4", style, parity_weights)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stderr and "6 frames" in result.stderr and "audio copied (aac)" in result.stderr
    out = read_clip(tmp_path / "out.mp4")
    assert len(out["frames"]) == 6 and out["audio"]["codec"] == "aac"
    assert files(tmp_path) == ["in.mp4", "out.mp4", "style.png"]


def test_not_a_video(tmp_path, style, parity_weights):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is text\n" * 20)
    result = video(bad, tmp_path / "out.mp4", style, parity_weights)
    assert_one_line_error(result, bad, "not a video file")
    assert files(tmp_path) == ["notes.mp4", "style.png"]


def test_zero_frame_video(tmp_path, style, parity_weights):
    import av

    zero = tmp_path / "zero.mp4"
    with av.open(str(zero), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    result = video(zero, tmp_path / "out.mp4", style, parity_weights)
    assert_one_line_error(result, zero, "contains no video frames")
    assert files(tmp_path) == ["style.png", "zero.mp4"]


def test_index_without_picture_data(tmp_path, style, parity_weights):
    src = make_clip(tmp_path / "in.mp4", frames=6, audio=False, options={"movflags": "+faststart"})
    data = src.read_bytes()
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(data[: data.find(b"mdat") + 8])
    result = video(empty, tmp_path / "out.mp4", style, parity_weights)
    assert_one_line_error(result, empty, "no video frame could be decoded")
    assert "out.mp4" not in files(tmp_path) and not [n for n in files(tmp_path) if "partial" in n]


def test_damaged_video_exits_1_with_one_line_and_leaves_nothing(tmp_path, style, parity_weights):
    src = make_clip(tmp_path / "in.mp4", frames=16, options={"movflags": "+faststart"})
    cut = damaged_copy(src, tmp_path / "clip.mp4", frames=1)  # its header lists 16 frames
    garbled = garbled_copy(src, tmp_path / "garbled.mp4", frame=8)
    src.unlink()
    result = video(cut, tmp_path / "out.mp4", style, parity_weights)
    assert_one_line_error(result, cut, "damaged: 1 of 16 frames in the file")
    assert result.stderr.strip() == f"error: {cut}: damaged: 1 of 16 frames in the file"
    result = video(garbled, tmp_path / "out.mp4", style, parity_weights)  # found while decoding, after loading
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    expected = rf"error: {re.escape(str(garbled))}: damaged: the decoder failed after \d+ of 16 frames \(.+\)"
    assert len(errors) == 1 and re.fullmatch(expected, errors[0]), errors
    assert result.stderr.strip().splitlines()[-1] == errors[0] and "Traceback" not in result.stderr
    assert files(tmp_path) == ["clip.mp4", "garbled.mp4", "style.png"]  # no output, no temporary file


def test_an_exif_rotated_style_is_used_upright_as_by_stylize_image(tmp_path, parity_weights):
    """A phone photo as a style: stored sideways with EXIF orientation 6. `stylize video` must use it
    upright, as `stylize image` does, not as its stored pixels."""
    import numpy as np
    from PIL import Image

    upright = Image.fromarray(moving_frames(1, 64, 40, seed=7)[0])
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: shown after a quarter turn clockwise
    phone = tmp_path / "phone.jpg"
    upright.transpose(Image.Transpose.ROTATE_90).save(phone, exif=exif.tobytes(), quality=95)
    with Image.open(phone) as stored:
        sideways = tmp_path / "sideways.png"
        stored.save(sideways)  # the same pixels without the EXIF orientation
    src = make_clip(tmp_path / "in.mp4", frames=1, audio=False)
    frame = tmp_path / "frame.png"
    Image.fromarray(read_clip(src)["frames"][0]).save(frame)

    out = tmp_path / "out.mp4"
    result = video(src, out, phone, parity_weights, "--temporal", "off", "--pix-fmt", "yuv444p", "--crf", "0")
    assert result.exit_code == 0, result.output
    from_video = read_clip(out)["frames"][0].astype(np.float32)

    def image_with(style_file):
        target = tmp_path / f"image-{style_file.stem}.png"
        args = ["image", str(frame), "-s", str(style_file), "-o", str(target), "--weights", str(parity_weights),
                "--device", "cpu", "--style-size", "64", "-m", "adaattn-video"]  # fmt: skip
        done = CliRunner().invoke(cli, args)
        assert done.exit_code == 0, done.output
        return np.asarray(Image.open(target).convert("RGB"), dtype=np.float32)

    same = np.abs(from_video - image_with(phone)).mean()
    other = np.abs(from_video - image_with(sideways)).mean()
    assert same < 1.5, (same, other)  # encoding rounds a little
    assert other > 4 * same, (same, other)


def test_no_audio(tmp_path, style, parity_weights):
    src = make_clip(tmp_path / "silent.mp4", frames=4, audio=False)
    result = video(src, tmp_path / "out.mp4", style, parity_weights)
    assert result.exit_code == 0, result.output
    assert "no audio" in result.stderr and read_clip(tmp_path / "out.mp4")["audio"] is None


def test_no_audio_option(tmp_path, style, parity_weights):
    src = make_clip(tmp_path / "in.mp4", frames=3)
    result = video(src, tmp_path / "out.mp4", style, parity_weights, "--no-audio")
    assert result.exit_code == 0 and read_clip(tmp_path / "out.mp4")["audio"] is None


def test_audio_only_file(tmp_path, style, parity_weights):
    tone = make_audio_only(tmp_path / "tone.m4a")
    result = video(tone, tmp_path / "out.mp4", style, parity_weights)
    assert_one_line_error(result, tone, "audio-only")
    assert files(tmp_path) == ["style.png", "tone.m4a"]


def test_odd_dimensions(tmp_path, style, parity_weights):
    src = make_clip(tmp_path / "odd.mp4", width=65, height=49, frames=3, pix_fmt="yuv444p", audio=False)
    result = video(src, tmp_path / "out.mp4", style, parity_weights)
    assert result.exit_code == 0, result.output
    assert "odd side" in result.stderr and "66x50" in result.stderr
    out = read_clip(tmp_path / "out.mp4")
    assert (out["width"], out["height"], out["pix_fmt"]) == (66, 50, "yuv420p")
    result = video(src, tmp_path / "exact.mkv", style, parity_weights, "--pix-fmt", "yuv444p")
    assert result.exit_code == 0 and "odd side" not in result.stderr
    out = read_clip(tmp_path / "exact.mkv")
    assert (out["width"], out["height"]) == (65, 49)


def test_rotated_phone_video(tmp_path, style, parity_weights):
    src = make_clip(tmp_path / "phone.mp4", frames=3, rotation=90)
    result = video(src, tmp_path / "out.mp4", style, parity_weights)
    assert result.exit_code == 0, result.output
    out = read_clip(tmp_path / "out.mp4")
    assert out["rotation"] == 90 and (out["width"], out["height"]) == (64, 48)


def test_variable_frame_rate(tmp_path, style, parity_weights):
    pts = [0, 40, 120, 160, 300, 340]
    src = make_clip(tmp_path / "vfr.mp4", frames=6, pts=pts, time_base=Fraction(1, 1000))
    result = video(src, tmp_path / "out.mp4", style, parity_weights, "--temporal", "off")
    assert result.exit_code == 0, result.output
    assert read_clip(tmp_path / "out.mp4")["times"] == pytest.approx([p / 1000 for p in pts], abs=1e-3)


def test_very_large_resolution_with_small_max_size(tmp_path, style, parity_weights):
    src = make_clip(tmp_path / "big.mp4", width=2000, height=1200, frames=3, audio=False)
    result = video(src, tmp_path / "out.mp4", style, parity_weights, "--max-size", "64")
    assert result.exit_code == 0, result.output
    out = read_clip(tmp_path / "out.mp4")
    assert (out["width"], out["height"]) == (64, 38) and len(out["frames"]) == 3


@pytest.mark.parametrize(
    ("extra", "output", "text"),
    [
        ((), "out.webm", ".webm files cannot hold h264"),
        (("--crf", "99"), "out.mp4", "out of range"),
        (("--preset", "warp9"), "out.mp4", "is not one of h264's"),
        (("--duration", "0"), "out.mp4", "must be more than 0"),
        (("--start", "soon"), "out.mp4", "is not a time"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, style, parity_weights, extra, output, text):
    src = make_clip(tmp_path / "in.mp4", frames=2, audio=False)
    result = video(src, tmp_path / output, style, parity_weights, *extra)
    assert result.exit_code == 2, result.output
    assert text in result.stderr
    assert files(tmp_path) == ["in.mp4", "style.png"]


def test_unknown_output_suffix_and_missing_style(tmp_path, style, parity_weights):
    src = make_clip(tmp_path / "in.mp4", frames=2, audio=False)
    result = video(src, tmp_path / "out.gif", style, parity_weights)
    assert_one_line_error(result, tmp_path / "out.gif", "unknown video format '.gif'")
    result = video(src, tmp_path / "out.mp4", tmp_path / "nope.png", parity_weights)
    assert_one_line_error(result, tmp_path / "nope.png", "no such file")
    assert files(tmp_path) == ["in.mp4", "style.png"]


def test_help_has_an_example():
    result = CliRunner().invoke(cli, ["video", "--help"])
    assert result.exit_code == 0
    assert "stylize video clip.mp4 -s wave.jpg -o clip_wave.mp4" in result.output
    assert "for videos adaattn-video" in " ".join(result.output.split()) and "--temporal-weight" in result.output


def subprocess_env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def test_subprocess_exit_codes(tmp_path, style, parity_weights):
    bad = tmp_path / "bad.mov"
    bad.write_bytes(b"\x00" * 100)
    command = [sys.executable, "-m", "stylize", "video", str(bad), "-s", str(style), "-o", str(tmp_path / "out.mp4")]
    proc = subprocess.run(command, capture_output=True, text=True, env=subprocess_env())
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad}: not a video file (Invalid data found when processing input)"
    ]
    src = make_clip(tmp_path / "in.mp4", frames=8, options={"movflags": "+faststart"})
    cut = damaged_copy(src, tmp_path / "cut.mp4", frames=1)
    for clip, code in ((src, 0), (cut, 1)):
        args = [sys.executable, "-m", "stylize", "--quiet", "video", str(clip), "-s", str(style)]
        args += ["-o", str(tmp_path / f"out_{clip.name}"), "--weights", str(parity_weights), "--style-size", "64"]
        proc = subprocess.run([*args, "--device", "cpu"], capture_output=True, text=True, env=subprocess_env())
        assert proc.returncode == code, proc.stderr
        assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [f"error: {cut}: damaged: 1 of 8 frames in the file"]
    assert len(read_clip(tmp_path / "out_in.mp4")["frames"]) == 8 and not (tmp_path / "out_cut.mp4").exists()
