"""Installing checkpoints: archives that would write outside the folder are refused whole."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from stylize.errors import WeightsError
from stylize.weights.locate import check_archive


def archive(path: Path, name: str, link: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("AdaAttN/latest_net_decoder.pth", b"fine")
        info = zipfile.ZipInfo(name)
        if link:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, b"../../etc/passwd" if link else b"bad")
    return path


@pytest.mark.parametrize(
    "name, link, what",
    [
        ("../outside.pth", False, "would land outside"),
        ("/etc/cron.d/x", False, "would land outside"),
        ("a/../../x.pth", False, "would land outside"),
        ("..\\windows.pth", False, "would land outside"),
        ("C:/x.pth", False, "would land outside"),
        ("AdaAttN/link.pth", True, "is a symbolic link"),
    ],
)
def test_unsafe_entries_refuse_the_archive(tmp_path: Path, name: str, link: bool, what: str) -> None:
    path = archive(tmp_path / "w.zip", name, link)
    with pytest.raises(WeightsError, match=what) as info:
        check_archive(path)
    assert str(info.value).startswith(f"{path}: entry {name!r}")


def test_a_safe_archive_passes(tmp_path: Path) -> None:
    check_archive(archive(tmp_path / "ok.zip", "AdaAttN/latest_net_transformer.pth"))
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(WeightsError, match="cannot read the zip"):
        check_archive(tmp_path / "broken.zip")
