"""Bad checkpoint files through the command line: one line naming the file and the fault, exit 2,
nothing executed, a traceback only with --debug (issue 2's list)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
import torch

from tests.clitools import error_lines, invoke, run_stylize
from tests.imagefiles import rgb

FILES = ["latest_net_adaattn_3.pth", "latest_net_transformer.pth", "latest_net_decoder.pth"]


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def adaattn_folder(parity_weights: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in FILES:
        (folder / name).symlink_to(parity_weights / "adaattn" / name)
    (folder / "vgg_normalised.pth").symlink_to(parity_weights / "vgg_normalised.pth")
    return folder


def replace(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


@pytest.mark.parametrize("fault", ["missing", "empty", "truncated", "other model", "some files missing", "runs code"])
def test_bad_weights_give_one_line(fault: str, parity_weights: Path, tmp_path: Path) -> None:
    folder = adaattn_folder(parity_weights, tmp_path / "weights")
    decoder = folder / "latest_net_decoder.pth"
    marker = tmp_path / "pwned"
    expected = {
        "missing": f"{tmp_path / 'nowhere'}: no such file or folder",
        "empty": f"{decoder}: empty file (0 bytes)",
        "truncated": f"{decoder}: truncated or not a PyTorch checkpoint",
        "other model": f"{decoder}: not adaattn's latest_net_decoder.pth: missing decoder_layer_1.1.weight",
        "some files missing": f"{folder}: adaattn is missing latest_net_decoder.pth",
        "runs code": f"{decoder}: refused: its pickle asks to run code",
    }[fault]
    weights = folder
    if fault == "missing":
        weights = tmp_path / "nowhere"
    elif fault == "empty":
        replace(decoder, b"")
    elif fault == "truncated":
        replace(decoder, (parity_weights / "adaattn" / "latest_net_decoder.pth").read_bytes()[:50_000])
    elif fault == "other model":
        decoder.unlink()
        decoder.symlink_to(parity_weights / "adaattn_video" / "latest_net_decoder.pth")
    elif fault == "some files missing":
        decoder.unlink()
    elif fault == "runs code":
        decoder.unlink()
        torch.save({"decoder_layer_1.1.weight": torch.zeros(1), "x": _RunsCode(marker)}, decoder)
    rgb(tmp_path / "c.png", 32, 24)
    args = ["image", tmp_path / "c.png", "-s", tmp_path / "c.png", "-o", tmp_path / "o.png", "--weights", weights]
    result = invoke(args)
    assert result.exit_code == 2, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"error: {expected}"), result.stderr
    assert "Traceback" not in result.stderr and not marker.exists() and not (tmp_path / "o.png").exists()


def test_a_nested_zip_loads_and_debug_shows_the_traceback(parity_weights: Path, tmp_path: Path) -> None:
    archive = tmp_path / "AdaAttN_model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in FILES[:2]:  # the decoder is missing
            zf.write(parity_weights / "adaattn" / name, f"AdaAttN_model/checkpoints/AdaAttN/{name}")
    rgb(tmp_path / "c.png", 32, 24)
    args = ["image", tmp_path / "c.png", "-s", tmp_path / "c.png", "-o", tmp_path / "o.png", "--weights", archive]
    plain = run_stylize(args)
    assert plain.returncode == 2 and b"Traceback" not in plain.stderr
    assert f"{archive}: adaattn is missing vgg_normalised.pth, latest_net_decoder.pth" in plain.stderr.decode()
    debug = run_stylize(["--debug", *args])
    assert debug.returncode != 0 and b"Traceback" in debug.stderr
