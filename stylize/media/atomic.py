"""Atomic writes: a file appears complete under its name, or not at all.

Every output is written to a hidden temporary file in the destination's own folder (same file
system, so the final `os.replace` is atomic), then renamed. On any error, and on Ctrl-C, the
temporary file is removed, so an interrupted run leaves no partial output behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from stylize.errors import OutputError

# Errors of the write itself, worded for the user; other errors inside the body are not about the output.
WRITE_ERRORS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for the file system",
    errno.EROFS: "read-only file system",
    errno.EIO: "input/output error while writing",
}
CREATE_ERRORS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENAMETOOLONG: "file name too long",
    errno.EISDIR: "is a folder",
    **WRITE_ERRORS,
}
TEMP_MARK = ".stylize-tmp"


def temp_name(dst: Path) -> Path:
    """A fresh hidden name next to `dst` that keeps its extension (encoders pick formats by it)."""
    return dst.with_name(f".{dst.name}.{secrets.token_hex(4)}{TEMP_MARK}{dst.suffix}")


def is_temp_file(path: Path) -> bool:
    """Whether `path` is one of our temporary files (left only if the process was killed outright)."""
    return path.name.startswith(".") and TEMP_MARK in path.name


def output_error(dst: Path | str, exc: OSError, known: dict[int, str] = CREATE_ERRORS) -> OutputError:
    """An OSError about writing `dst`, as a one-line OutputError naming it."""
    problem = known.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()
    return OutputError(dst, f"cannot write: {problem}")


def _open_temp(dst: Path) -> Path:
    """Create the temporary file (mode 0o666 minus the umask, like any new file) and return its path."""
    for _ in range(100):
        tmp = temp_name(dst)
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise OutputError(dst, "cannot create a temporary file next to it")


@contextlib.contextmanager
def atomic_path(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `dst`; on success rename it to `dst`, on failure remove it.

    The parent folders are created. The body writes the temporary file however it likes (an
    encoder, a video muxer); it is renamed over `dst` only if the body returns normally.

    Raises:
        OutputError: the folder cannot be written, the disk is full, `dst` is a folder; the
            error names `dst`, and nothing is left behind.
    """
    dst = Path(dst)
    tmp = _create_temp(dst)
    try:
        yield tmp
    except OSError as exc:
        _remove(tmp)
        if exc.errno in WRITE_ERRORS:
            raise output_error(dst, exc, WRITE_ERRORS) from exc
        raise
    except BaseException:  # Ctrl-C and every other error: no partial file stays
        _remove(tmp)
        raise
    try:
        os.replace(tmp, dst)
    except OSError as exc:
        _remove(tmp)
        raise output_error(dst, exc) from exc


def check_writable(dst: str | os.PathLike[str]) -> None:
    """Raise now the OutputError that writing `dst` would raise at the end, before any work is spent.

    Tries a temporary file in `dst`'s folder, or in its nearest existing ancestor when the folder
    is still to be made; nothing is created that stays.
    """
    dst = Path(dst)
    if dst.is_dir():
        raise OutputError(dst, "is a folder; give a file name")
    folder = dst.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(dst, f"cannot write: {folder} is a file, not a folder")
    try:
        _remove(_open_temp(folder / dst.name))
    except OSError as exc:
        raise output_error(dst, exc) from exc


def _create_temp(dst: Path) -> Path:
    """The temporary file for `dst`, its folders created; an OutputError naming `dst` when it cannot be."""
    if dst.is_dir():
        raise OutputError(dst, "is a folder; give a file name")
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(dst, f"cannot write: {dst.parent} is a file, not a folder") from None
    except OSError as exc:
        raise output_error(dst, exc) from exc
    try:
        return _open_temp(dst)
    except OSError as exc:
        raise output_error(dst, exc) from exc


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _write_file(path: Path, data: bytes) -> None:
    """Write and flush `data` to disk (fsync, so a crash after the rename cannot leave an empty file)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_bytes_atomic(dst: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `dst` atomically (see `atomic_path`)."""
    with atomic_path(dst) as tmp:
        _write_file(tmp, data)
