"""The engine choice: checked values, Ray imported only when the Ray engine opens, one line without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stylize.errors import SetupError
from stylize.pipeline.settings import EngineChoice
from tests.clitools import error_lines, invoke
from tests.imagefiles import rgb

INSTALL_LINE = "error: --engine ray needs Ray, which is not installed: pip install 'stylize[ray]'"


def test_engine_choice_is_checked() -> None:
    assert EngineChoice().name == "local"
    with pytest.raises(SetupError, match="--engine 'spark': choose one of local, ray"):
        EngineChoice("spark")
    with pytest.raises(SetupError, match="--workers 0"):
        EngineChoice("ray", workers=0)
    with pytest.raises(SetupError, match="--cpus-per-worker"):
        EngineChoice("ray", cpus_per_worker=0)


def test_importing_stylize_and_its_engines_does_not_import_ray() -> None:
    code = (
        "import sys, stylize, stylize.pipeline.engines, stylize.pipeline.engines.local, stylize.cli.main\n"
        "from stylize.cli import batch, video\n"
        "print('ray' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("command", ["batch", "video"])
def test_engine_ray_without_ray_is_one_line_and_exit_2(
    command: str, tmp_path: Path, parity_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    style = rgb(tmp_path / "style.png", 32, 32)
    if command == "batch":
        args = ["batch", rgb(tmp_path / "a.png"), "-s", style, "-o", tmp_path / "out"]
    else:
        from tests.clips import make_clip

        args = ["video", make_clip(tmp_path / "in.mp4", frames=3), "-s", style, "-o", tmp_path / "out.mp4"]
    result = invoke([*args, "--weights", parity_weights, "--device", "cpu", "--engine", "ray"])
    assert result.exit_code == 2
    assert error_lines(result.stderr) == [INSTALL_LINE]
    assert "hint:" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.mp4").exists()
