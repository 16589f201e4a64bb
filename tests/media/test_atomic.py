"""Atomic writes: complete files or nothing, whatever happens in between."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from stylize.errors import OutputError
from stylize.media import atomic
from stylize.media.atomic import atomic_path, is_temp_file, write_bytes_atomic


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if is_temp_file(p))


def test_writes_the_file_with_normal_permissions(tmp_path: Path) -> None:
    dst = tmp_path / "sub" / "out.png"
    write_bytes_atomic(dst, b"data")
    assert dst.read_bytes() == b"data"
    umask = os.umask(0)
    os.umask(umask)
    assert dst.stat().st_mode & 0o777 == 0o666 & ~umask
    assert leftovers(tmp_path) == []


def test_temp_file_is_hidden_next_to_the_target_and_keeps_the_extension(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "clip.mp4") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".") and tmp.suffix == ".mp4"
        assert is_temp_file(tmp)
        tmp.write_bytes(b"x")
    assert (tmp_path / "clip.mp4").read_bytes() == b"x"


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_error_or_ctrl_c_leaves_the_old_file_and_no_temp(tmp_path: Path, error: BaseException) -> None:
    dst = tmp_path / "out.png"
    dst.write_bytes(b"old")
    with pytest.raises(type(error)), atomic_path(dst) as tmp:
        tmp.write_bytes(b"half")
        raise error
    assert dst.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_full_disk_names_the_file_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(path: Path, data: bytes) -> None:
        path.write_bytes(data[:2])  # something reached the disk before it filled up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_file", full)
    dst = tmp_path / "out.png"
    with pytest.raises(OutputError) as info:
        write_bytes_atomic(dst, b"data")
    assert str(info.value) == f"{dst}: cannot write: no space left on the device"
    assert list(tmp_path.iterdir()) == []


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(dst: Path) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic, "_open_temp", denied)
    with pytest.raises(OutputError, match="out.png: cannot write: permission denied"):
        write_bytes_atomic(tmp_path / "out.png", b"data")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            write_bytes_atomic(folder / "out.png", b"data")
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


def test_a_folder_as_target_or_a_file_as_parent(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder"):
        write_bytes_atomic(tmp_path, b"data")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        write_bytes_atomic(tmp_path / "file" / "out.png", b"data")
