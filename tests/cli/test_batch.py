"""`stylize batch`: folders in, names out, failures reported and survived, interruptions resumable."""

from __future__ import annotations

import errno
import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console

from stylize.media import atomic
from tests.clitools import error_lines, invoke, leftovers, subprocess_env
from tests.imagefiles import BAD_MESSAGES, bad_inputs, folder_bytes, odd_images, rgb, style_folder


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """photos/a.png, photos/b.jpg, photos/sub/c.png."""
    folder = tmp_path / "photos"
    rgb(folder / "a.png", 64, 48, seed=1)
    rgb(folder / "b.jpg", 48, 64, seed=2)
    rgb(folder / "sub" / "c.png", 56, 40, seed=3)
    return folder


@pytest.fixture
def styles(tmp_path: Path) -> Path:
    return style_folder(tmp_path / "styles")


def test_folders_styles_json_and_mirrored_names(photos: Path, styles: Path, tmp_path: Path, fast: list[str]) -> None:
    out = tmp_path / "out"
    result = invoke(["batch", photos, "-s", styles, "-o", out, "-r", "--json", *fast])
    assert result.exit_code == 0, result.stderr
    assert sorted(folder_bytes(out)) == [
        "a__ink.png", "a__wave.png", "b__ink.jpg", "b__wave.jpg", "sub/c__ink.png", "sub/c__wave.png",
    ]  # fmt: skip
    assert Image.open(out / "b__ink.jpg").size == (48, 64)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 6 and {r["status"] for r in records} == {"done"}
    first = records[0]
    assert set(first) == {"content", "style", "output", "seconds", "status", "error"}
    assert first["content"] == str(photos / "a.png") and first["style"] == str(styles / "ink.png")
    assert first["output"] == str(out / "a__ink.png") and first["error"] is None and first["seconds"] > 0
    assert "6 done" in result.stderr and "[6/6]" in result.stderr


def test_odd_formats_all_work(tmp_path: Path, styles: Path, fast: list[str]) -> None:
    odd = odd_images(tmp_path / "odd")
    out = tmp_path / "out"
    result = invoke(["batch", *odd.values(), "-s", styles / "wave.jpg", "-o", out, *fast])
    assert result.exit_code == 0, result.stderr
    assert sorted(folder_bytes(out)) == sorted(
        f"{p.stem}__wave.{'jpg' if p.suffix == '.jpg' else 'png'}" for p in odd.values()
    )
    assert Image.open(out / "rgba__wave.png").mode == "RGBA"
    assert Image.open(out / "palette_transparent__wave.png").mode == "RGBA"
    assert Image.open(out / "gray_alpha__wave.png").mode == "RGBA"
    assert Image.open(out / "gray16__wave.png").mode == "RGB"
    assert Image.open(out / "rotated__wave.jpg").size == (48, 64)  # upright
    assert Image.open(out / "animated__wave.png").size == (40, 30)  # the first frame


def test_a_failed_input_does_not_stop_the_run(photos: Path, styles: Path, tmp_path: Path, fast: list[str]) -> None:
    bad = bad_inputs(photos)
    out = tmp_path / "out"
    args = ["batch", photos, bad["missing"], "-s", styles / "wave.jpg", "-o", out, "--json", *fast]
    result = invoke(args)
    assert result.exit_code == 1
    assert sorted(folder_bytes(out)) == ["a__wave.png", "b__wave.jpg"]
    records = {Path(r["content"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    for kind in ("missing", "empty", "truncated", "text", "bomb"):
        record = records[bad[kind].name]
        assert record["status"] == "failed"
        assert record["error"].startswith(f"{bad[kind]}: {BAD_MESSAGES[kind].split(' (')[0]}"), record
        failed_line = [line for line in result.stderr.splitlines() if line.endswith(record["error"])]
        assert failed_line and "failed:" in failed_line[0]
    assert "5 failed" in result.stderr and "2 done" in result.stderr  # the summary
    assert "why" in result.stderr and "Traceback" not in result.stderr  # the table
    assert leftovers(tmp_path) == []


def test_full_disk_fails_that_output_only(photos: Path, styles: Path, tmp_path: Path, fast: list[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    write = atomic._write_file

    def full_for_b(path: Path, data: bytes) -> None:
        if ".b__" in path.name:
            path.write_bytes(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")
        write(path, data)

    monkeypatch.setattr(atomic, "_write_file", full_for_b)
    out = tmp_path / "out"
    result = invoke(["batch", photos, "-s", styles / "wave.jpg", "-o", out, "--jobs", "2", *fast])
    assert result.exit_code == 1
    assert sorted(folder_bytes(out)) == ["a__wave.png"]
    assert f"failed: {out / 'b__wave.jpg'}: cannot write: no space left on the device" in result.stderr
    assert leftovers(tmp_path) == []


def test_ctrl_c_then_skip_existing_finishes_identically(photos: Path, styles: Path, tmp_path: Path, fast: list[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    reference = tmp_path / "reference"
    assert invoke(["batch", photos, "-s", styles, "-o", reference, "-r", "--jobs", "0", *fast]).exit_code == 0

    from stylize.pipeline import image_runner

    real = image_runner.stylize_picture
    calls = []

    def interrupted_on_the_fourth(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        patch.setattr(image_runner, "stylize_picture", interrupted_on_the_fourth)
        stopped = invoke(["batch", photos, "-s", styles, "-o", out, "-r", *fast])
    assert stopped.exit_code == 130
    assert "interrupted after" in stopped.stderr and "--skip-existing" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    partial = folder_bytes(out)
    assert len(partial) == 3 and leftovers(tmp_path) == []
    assert all(partial[name] == folder_bytes(reference)[name] for name in partial)

    resumed = invoke(["batch", photos, "-s", styles, "-o", out, "-r", "--skip-existing", "--json", *fast])
    assert resumed.exit_code == 0, resumed.stderr
    statuses = [json.loads(line)["status"] for line in resumed.stdout.splitlines()]
    assert statuses.count("skipped") == 3 and statuses.count("done") == 3
    assert folder_bytes(out) == folder_bytes(reference)


def test_sigint_to_a_real_process_leaves_no_partial_file(tmp_path: Path, styles: Path, fast: list[str]) -> None:
    photos = tmp_path / "many"
    count = 60  # enough that a fast machine is still busy when the signal comes
    for i in range(count):
        rgb(photos / f"p{i:02d}.png", 64, 48, seed=i)
    out = tmp_path / "out"
    args = ["batch", photos, "-s", styles / "wave.jpg", "-o", out, "--jobs", "1", *fast]
    # A job started in the background inherits SIGINT as ignored, and Python then keeps ignoring it.
    process = subprocess.Popen(
        [sys.executable, "-m", "stylize", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=subprocess_env(), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None and len(list(out.glob("p*.png"))) < 2:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    text = stderr.decode()
    assert process.returncode == 130, text
    assert "interrupted after" in text and "Traceback" not in text
    assert leftovers(tmp_path) == []
    done = folder_bytes(out)
    assert 2 <= len(done) < count
    for data in done.values():  # every file there is complete
        Image.open(io.BytesIO(data)).load()

    resumed = invoke([*args, "--skip-existing"])
    assert resumed.exit_code == 0, resumed.stderr
    finished = folder_bytes(out)
    assert len(finished) == count and all(finished[name] == data for name, data in done.items())
    reference = tmp_path / "reference"
    assert invoke(["batch", photos, "-s", styles / "wave.jpg", "-o", reference, "--jobs", "1", *fast]).exit_code == 0
    assert finished == folder_bytes(reference)


def test_skip_existing_needs_no_model(photos: Path, styles: Path, tmp_path: Path, fast: list[str]) -> None:
    out = tmp_path / "out"
    assert invoke(["batch", photos, "-s", styles / "wave.jpg", "-o", out, *fast]).exit_code == 0
    result = invoke(["batch", photos, "-s", styles / "wave.jpg", "-o", out, "--skip-existing", "--weights", "/nowhere"])
    assert result.exit_code == 0, result.stderr
    assert "0 done, 2 skipped" in result.stderr
    quiet = invoke(["-q", "batch", photos, "-s", styles / "wave.jpg", "-o", out, "--skip-existing"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_paths_from_stdin_zip_pairing_and_template(photos: Path, styles: Path, tmp_path: Path, fast: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    paths = "photos/a.png\0photos/sub/c.png\0"
    result = invoke(
        ["batch", "-", "-0", "-s", styles / "ink.png", "-s", styles / "wave.jpg", "--pair", "zip", "-o", out,
         "--template", "{style}/{content}.{ext}", "--format", "webp", *fast],
        input=paths,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert sorted(folder_bytes(out)) == ["photos/ink/a.webp", "photos/sub/wave/c.webp"]


def test_mixing_styles_makes_one_output_per_content(photos: Path, styles: Path, tmp_path: Path,
                                                    fast: list[str]) -> None:  # fmt: skip
    out = tmp_path / "out"
    result = invoke(["batch", photos / "a.png", "-s", styles, "--style-weights", "0.5,0.5", "-o", out, *fast])
    assert result.exit_code == 0, result.stderr
    assert sorted(folder_bytes(out)) == ["a__ink+wave.png"]


@pytest.mark.parametrize(
    "case, message",
    [
        ("empty style folder", "empty-styles: style folder holds no images"),
        ("nothing to do", "nothing to do: no images or videos in"),
        ("collision", "2 outputs would get this name"),
        ("zip mismatch", "--pair zip needs as many styles as contents"),
    ],
)
def test_plan_errors_exit_2_before_loading_anything(photos: Path, styles: Path, tmp_path: Path, case: str,
                                                    message: str) -> None:  # fmt: skip
    (tmp_path / "empty-styles").mkdir()
    (tmp_path / "nothing").mkdir()
    rgb(tmp_path / "other" / "a.jpg")
    args = {
        "empty style folder": [photos, "-s", tmp_path / "empty-styles"],
        "nothing to do": [tmp_path / "nothing", "-s", styles],
        "collision": [photos / "a.png", tmp_path / "other" / "a.jpg", "-s", styles / "ink.png", "--format", "png"],
        "zip mismatch": [photos, "-s", styles / "ink.png", "--pair", "zip"],
    }[case]
    result = invoke(["batch", *args, "-o", tmp_path / "out", "--weights", "/nowhere"])
    assert result.exit_code == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


def test_a_broken_video_among_images_fails_alone(photos: Path, styles: Path, tmp_path: Path, fast: list[str]) -> None:
    clip = photos / "clip.mp4"
    clip.write_bytes(b"not really a video")
    out = tmp_path / "out"
    result = invoke(["batch", photos, "-s", styles / "wave.jpg", "-o", out, *fast])
    assert result.exit_code == 1
    assert f"failed: {clip}: not a video file" in result.stderr
    assert sorted(folder_bytes(out)) == ["a__wave.png", "b__wave.jpg"]


def test_an_unwritable_output_folder_fails_its_jobs_without_computing_them(
    photos: Path, styles: Path, tmp_path: Path, fast: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylize.pipeline import image_runner

    real_open_temp, real_stylize = atomic._open_temp, image_runner.stylize_picture
    computed: list[str] = []

    def denied_in_sub(dst: Path) -> Path:
        if dst.parent.name == "sub":  # root ignores permissions, so simulate them
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open_temp(dst)

    def counting(stylizer, picture, *args, **kwargs):  # type: ignore[no-untyped-def]
        computed.append(picture.rgb.size)
        return real_stylize(stylizer, picture, *args, **kwargs)

    monkeypatch.setattr(atomic, "_open_temp", denied_in_sub)
    monkeypatch.setattr(image_runner, "stylize_picture", counting)
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)  # a folder that exists and takes no files
    result = invoke(["batch", photos, "-s", styles / "wave.jpg", "-o", out, "-r", *fast])
    assert result.exit_code == 1
    assert f"failed: {out / 'sub' / 'c__wave.png'}: cannot write: permission denied" in result.stderr
    assert sorted(folder_bytes(out)) == ["a__wave.png", "b__wave.jpg"]
    assert sorted(computed) == [(48, 64), (64, 48)]  # c.png (56x40) was never stylised


def test_progress_bar_on_a_terminal(photos: Path, styles: Path, tmp_path: Path, fast: list[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from stylize.cli import console

    screen = io.StringIO()
    monkeypatch.setattr(console, "err_console", Console(file=screen, force_terminal=True, width=120))
    result = invoke(["batch", photos / "a.png", "-s", styles / "wave.jpg", "-o", tmp_path / "out", *fast])
    assert result.exit_code == 0
    shown = screen.getvalue()
    assert "1/1" in shown and "eta" in shown and "a__wave.png" in shown
    assert "[1/1]" not in shown  # no plain log lines on a terminal


def test_video_inputs_are_routed_to_the_video_pipeline(tmp_path: Path, styles: Path, fast: list[str]) -> None:
    from tests.clips import make_clip, read_clip

    inputs = tmp_path / "mixed"
    rgb(inputs / "still.png", 40, 32, seed=1)
    make_clip(inputs / "clip.mp4", width=48, height=32, frames=5)
    out = tmp_path / "out"
    result = invoke(["batch", inputs, "-s", styles / "wave.jpg", "-o", out, "--json", *fast])
    assert result.exit_code == 0, result.stderr
    reports = {Path(json.loads(line)["content"]).name: json.loads(line) for line in result.stdout.splitlines()}
    assert reports["clip.mp4"]["status"] == "done" and reports["clip.mp4"]["output"].endswith("clip__wave.mp4")
    clip = read_clip(out / "clip__wave.mp4")
    assert len(clip["frames"]) == 5 and clip["frames"][0].shape[:2] == (32, 48) and clip["audio"] is not None
    assert Image.open(out / "still__wave.png").size == (40, 32)


def test_a_damaged_video_fails_alone(tmp_path: Path, styles: Path, fast: list[str]) -> None:
    from tests.clips import damaged_copy, make_clip

    inputs = tmp_path / "mixed"
    rgb(inputs / "still.png", 40, 32, seed=1)
    make_clip(inputs / "good.mp4", width=48, height=32, frames=4)
    src = make_clip(tmp_path / "whole.mp4", width=48, height=32, frames=12, options={"movflags": "+faststart"})
    cut = damaged_copy(src, inputs / "cut.mp4", frames=1)
    out = tmp_path / "out"
    result = invoke(["batch", inputs, "-s", styles / "wave.jpg", "-o", out, *fast])
    assert result.exit_code == 1
    failed = [line for line in result.stderr.splitlines() if "failed:" in line]
    assert len(failed) == 1 and failed[0].endswith(f"failed: {cut}: damaged: 1 of 12 frames in the file"), failed
    assert sorted(folder_bytes(out)) == ["good__wave.mp4", "still__wave.png"]
    assert leftovers(tmp_path) == []


def test_out_of_memory_fails_that_input_only_with_what_fits(
    photos: Path, styles: Path, tmp_path: Path, fast: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylize.models.adaattn import AdaAttNNet

    original = AdaAttNNet.attend

    def attend(self, content, memory, compute):  # type: ignore[no-untyped-def]
        if content.deep[2].shape[-2] == 16:  # b.jpg (48x64): out of memory even in the smallest chunks
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return original(self, content, memory, compute)

    monkeypatch.setattr(AdaAttNNet, "attend", attend)
    out = tmp_path / "out"
    result = invoke(["batch", photos, "-s", styles / "wave.jpg", "-o", out, *fast])
    assert result.exit_code == 1
    assert sorted(folder_bytes(out)) == ["a__wave.png"]  # the other input still done, no partial file
    failed = [line for line in result.stderr.splitlines() if "failed:" in line]
    assert failed == [
        f"[1/2] failed: {photos / 'b.jpg'}: 48x64 does not fit in memory on cpu; try a smaller --max-size"
    ]
    assert "Traceback" not in result.stderr and leftovers(tmp_path) == []
