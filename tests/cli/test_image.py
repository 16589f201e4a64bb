"""`stylize image`: options, formats, streams, and every bad input as one clear line."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylize.media import atomic
from tests.clitools import error_lines, invoke, leftovers, run_stylize
from tests.imagefiles import BAD_MESSAGES, bad_inputs, exif_rotated_jpeg, odd_images, rgb


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "content": rgb(tmp_path / "content.png", 64, 48, seed=1),
        "style": rgb(tmp_path / "style.jpg", 40, 40, seed=2),
        "style2": rgb(tmp_path / "style2.png", 48, 32, seed=4),
    }


def test_png_output_keeps_the_content_size(files: dict[str, Path], tmp_path: Path, fast: list[str]) -> None:
    out = tmp_path / "out.png"
    result = invoke(["image", files["content"], "-s", files["style"], "-o", out, *fast])
    assert result.exit_code == 0, result.stderr
    image = Image.open(out)
    assert image.format == "PNG" and image.mode == "RGB" and image.size == (64, 48)
    assert result.stdout == "" and error_lines(result.stderr) == []
    assert leftovers(tmp_path) == []


def test_options_change_the_result(files: dict[str, Path], tmp_path: Path, fast: list[str]) -> None:
    def run(name: str, *extra: object) -> np.ndarray:
        out = tmp_path / name
        result = invoke(["image", files["content"], "-s", files["style"], *extra, "-o", out, *fast])
        assert result.exit_code == 0, result.stderr
        return np.asarray(Image.open(out), dtype=np.int16)

    plain = run("plain.png")
    assert not np.array_equal(plain, run("alpha.png", "--alpha", "0.3"))
    assert not np.array_equal(plain, run("colour.png", "--preserve-color"))
    mixed = run("mix.png", "-s", files["style2"], "--style-weights", "0.7,0.3")
    assert not np.array_equal(plain, mixed)
    mask = tmp_path / "mask.png"
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8)[None] * 4, (20, 1))).save(mask)  # any size: resized
    inverse = tmp_path / "inverse.png"
    Image.eval(Image.open(mask), lambda v: 255 - v).save(inverse)
    masked = run("masked.png", "-s", files["style2"], "--mask", mask, "--mask", inverse)
    assert masked.shape == plain.shape and not np.array_equal(masked, mixed)
    assert run("small.png", "--max-size", "32").shape == (24, 32, 3)


@pytest.mark.parametrize("name, fmt", [("out.jpg", "JPEG"), ("out.JPEG", "JPEG"), ("out.webp", "WEBP"),
                                       ("out.tiff", "TIFF")])  # fmt: skip
def test_output_format_from_the_extension(files: dict[str, Path], tmp_path: Path, fast: list[str], name: str,
                                          fmt: str) -> None:  # fmt: skip
    result = invoke(["image", files["content"], "-s", files["style"], "-o", tmp_path / name, "--quality", "80", *fast])
    assert result.exit_code == 0, result.stderr
    assert Image.open(tmp_path / name).format == fmt


def test_alpha_and_orientation_carried_over(tmp_path: Path, fast: list[str]) -> None:
    odd = odd_images(tmp_path / "odd")
    result = invoke(["image", odd["rgba"], "-s", odd["gray"], "-o", tmp_path / "rgba.png", *fast])
    assert result.exit_code == 0, result.stderr
    out = Image.open(tmp_path / "rgba.png")
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(Image.open(odd["rgba"]).getchannel("A")))
    result = invoke(
        ["image", exif_rotated_jpeg(tmp_path / "r.jpg"), "-s", odd["gray"], "-o", tmp_path / "r.png", *fast]
    )
    assert result.exit_code == 0, result.stderr
    assert Image.open(tmp_path / "r.png").size == (48, 64)  # upright


def test_stdin_to_stdout(files: dict[str, Path], tmp_path: Path, fast: list[str]) -> None:
    result = invoke(["image", "-", "-s", files["style"], "-o", "-", *fast], input=files["content"].read_bytes())
    assert result.exit_code == 0, result.stderr
    image = Image.open(io.BytesIO(result.stdout_bytes))
    assert image.format == "PNG" and image.size == (64, 48)
    reference = tmp_path / "ref.png"
    assert invoke(["image", files["content"], "-s", files["style"], "-o", reference, *fast]).exit_code == 0
    assert result.stdout_bytes == reference.read_bytes()


def test_names_with_spaces_and_non_ascii(tmp_path: Path, fast: list[str]) -> None:
    content = rgb(tmp_path / "phötö 1.png")
    style = rgb(tmp_path / "stÿle – 2.jpg", 40, 40, seed=2)
    out = tmp_path / "øut dir" / "résultat 1.png"
    result = invoke(["image", content, "-s", style, "-o", out, *fast])
    assert result.exit_code == 0, result.stderr
    assert Image.open(out).size == (64, 48)


@pytest.mark.parametrize("kind", list(BAD_MESSAGES))
@pytest.mark.parametrize("role", ["content", "style"])
def test_bad_input_is_one_line_exit_1_nothing_written(tmp_path: Path, fast: list[str], files: dict[str, Path],
                                                      kind: str, role: str) -> None:  # fmt: skip
    bad = bad_inputs(tmp_path / "bad")[kind]
    out = tmp_path / "out" / "result.png"
    content, style = (bad, files["style"]) if role == "content" else (files["content"], bad)
    result = invoke(["image", content, "-s", style, "-o", out, *fast])
    assert result.exit_code == 1
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: {BAD_MESSAGES[kind]}"), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_full_disk_names_the_output_and_leaves_nothing(files: dict[str, Path], tmp_path: Path, fast: list[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    def full(path: Path, data: bytes) -> None:
        path.write_bytes(data[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_file", full)
    out = tmp_path / "out.png"
    result = invoke(["image", files["content"], "-s", files["style"], "-o", out, *fast])
    assert result.exit_code == 1
    assert error_lines(result.stderr) == [f"error: {out}: cannot write: no space left on the device"]
    assert not out.exists() and leftovers(tmp_path) == []


def test_unwritable_output_folder(files: dict[str, Path], tmp_path: Path, fast: list[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    def denied(dst: Path) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic, "_open_temp", denied)  # root ignores permissions, so simulate them
    out = tmp_path / "locked" / "out.png"
    result = invoke(["image", files["content"], "-s", files["style"], "-o", out, *fast])
    assert result.exit_code == 1
    assert error_lines(result.stderr) == [f"error: {out}: cannot write: permission denied"]
    assert not out.exists() and leftovers(tmp_path) == []


def test_an_unwritable_output_fails_before_the_model_loads(files: dict[str, Path], tmp_path: Path) -> None:
    """/proc takes no new files: the error comes at once (exit 1), not after the picture is computed
    (the weights named here do not exist, so loading the model would be a different error, exit 2)."""
    out = Path("/proc/stylize-test.png")
    result = invoke(["image", files["content"], "-s", files["style"], "-o", out, "--weights", tmp_path / "none"])
    assert result.exit_code == 1, result.stderr
    assert error_lines(result.stderr) == [f"error: {out}: cannot write: no such file or directory"]
    assert not out.exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-o", "out.bmp"], "out.bmp: cannot write images as .bmp"),
        (["-o", "out.png", "--mask", "m.png", "--mask", "n.png"], "2 masks for 1 styles"),
        (["-o", "out.png", "--style-weights", "1,2"], "2 weights for 1 styles"),
        (["-o", "out.png", "--alpha", "2"], "Invalid value for '--alpha'"),
    ],
)
def test_usage_errors_exit_2(files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             extra: list[str], message: str) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    result = invoke(["image", files["content"], "-s", files["style"], *extra])
    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_weights_say_which_files_and_how_to_get_them(files: dict[str, Path], tmp_path: Path) -> None:
    result = invoke(["image", files["content"], "-s", files["style"], "-o", tmp_path / "o.png"])
    assert result.exit_code == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "no weights for adaattn: it needs vgg_normalised.pth" in lines[0]
    assert "hint:" in result.stderr and "stylize weights fetch adaattn" in result.stderr


def test_subprocess_pipe_and_one_line_errors(files: dict[str, Path], tmp_path: Path, fast: list[str]) -> None:
    """`cat a.png | stylize image - -s s.jpg -o - > b.png` as a real process, then a bad input."""
    done = run_stylize(["image", "-", "-s", files["style"], "-o", "-", *fast], input=files["content"].read_bytes())
    assert done.returncode == 0, done.stderr.decode()
    assert Image.open(io.BytesIO(done.stdout)).size == (64, 48)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    failed = run_stylize(["image", text, "-s", files["style"], "-o", tmp_path / "x.png", *fast])
    assert failed.returncode == 1
    assert failed.stderr.decode().strip() == f"error: {text}: {BAD_MESSAGES['text']}"
    assert failed.stdout == b"" and not (tmp_path / "x.png").exists()


def test_out_of_memory_is_one_line_saying_what_fits(
    files: dict[str, Path], tmp_path: Path, fast: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylize.models.adaattn import AdaAttNNet

    def attend(self, content, memory, compute):  # type: ignore[no-untyped-def]
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(AdaAttNNet, "attend", attend)
    out = tmp_path / "out.png"
    result = invoke(["image", files["content"], "-s", files["style"], "-o", out, *fast])
    assert result.exit_code == 1
    assert error_lines(result.stderr) == ["error: 64x48 does not fit in memory on cpu; try a smaller --max-size"]
    assert "Traceback" not in result.stderr
    assert not out.exists() and leftovers(tmp_path) == []
