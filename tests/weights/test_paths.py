"""Where stylize looks for weights, and where its own trained weights are found after an install."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from stylize.weights.paths import bundled_root, search_locations
from stylize.weights.registry import MODELS
from tests.conftest import ROOT


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "env"))
    assert search_locations(tmp_path / "given") == [(tmp_path / "given", "--weights")]
    assert search_locations(None) == [(tmp_path / "env", "$STYLIZE_WEIGHTS")]
    monkeypatch.delenv("STYLIZE_WEIGHTS")
    whys = [why for _, why in search_locations(None)]
    assert whys[-1] == "user data folder"


def test_a_checkout_finds_its_own_weights_folder() -> None:
    """Running from the source tree (an editable install too): weights/stylize/ of the checkout."""
    assert bundled_root() == ROOT / "weights" / "stylize"


# Checks, in a fresh interpreter that sees only the installed copy, where bundled_root() points
# and that every model's files are there.
PROBE = """
import json
from stylize.weights.paths import bundled_root
from stylize.weights.registry import MODELS
root = bundled_root()
files = {spec.name: all((root / spec.folder / wf.filename).is_file() for wf in spec.files) for spec in MODELS.values()}
print(json.dumps({"root": str(root), "files": files}))
"""


def _base_python() -> Path | None:
    """An interpreter outside any virtual environment (pip refuses `--user` inside one), with pip."""
    if sys.prefix == sys.base_prefix:
        return Path(sys.executable)
    for name in ("python3", "python"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.is_file() and subprocess.run([candidate, "-c", "import pip"], capture_output=True).returncode == 0:
            return candidate
    return None


def _probe(python: Path, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run([python, "-c", PROBE], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """stylize built as a wheel, offline, from a copy of the sources (the build writes next to them)."""
    top = tmp_path_factory.mktemp("wheel")
    src = top / "src"
    src.mkdir()
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "vgg_normalised.pth")
    shutil.copytree(ROOT / "stylize", src / "stylize", ignore=ignore)
    shutil.copytree(ROOT / "weights" / "stylize", src / "weights" / "stylize", ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", top / "dist", src]
    done = subprocess.run(build, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (found,) = (top / "dist").glob("stylize-*.whl")
    return found


def test_the_wheel_carries_the_weights_inside_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    bundled = "stylize/weights/bundled/"
    for spec in MODELS.values():
        assert {f"{bundled}{spec.folder}/{wf.filename}" for wf in spec.files} <= names
        assert f"{bundled}{spec.folder}/MODEL_CARD.md" in names
    assert f"{bundled}LICENSE.md" in names and "stylize/weights/vgg_factors.json" in names
    assert not any(n.endswith("vgg_normalised.pth") or ".data/" in n for n in names)


@pytest.mark.parametrize("scheme", ["--user", "--target"])
def test_an_installed_wheel_finds_its_weights(wheel: Path, tmp_path: Path, scheme: str) -> None:
    """`pip install --user` (PYTHONUSERBASE) and `--target`; a venv and `--prefix` lay the package out
    as --user does, under another prefix."""
    python = _base_python()
    if python is None:
        pytest.skip("no interpreter outside the virtual environment with pip, for a --user install")
    place = tmp_path / "installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "STYLIZE_"))}
    if scheme == "--user":
        env["PYTHONUSERBASE"] = str(place)
        args = ["--user"]
    else:
        env["PYTHONPATH"] = str(place)
        args = ["--target", str(place)]
    install = [python, "-m", "pip", "--disable-pip-version-check", "install", "--no-deps", "--no-index", "-q"]
    done = subprocess.run(
        [*install, "--no-warn-script-location", *args, wheel], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    found = _probe(python, env, tmp_path)
    assert Path(found["root"]).is_relative_to(place)
    assert Path(found["root"]).parts[-3:] == ("stylize", "weights", "bundled")
    assert all(found["files"].values()), found
