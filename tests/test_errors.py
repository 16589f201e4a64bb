"""stylize.errors.reason: an exception in a few words for a one-line report."""

from __future__ import annotations

import errno

import av
import pytest

from stylize.errors import reason


def test_the_operating_systems_words_lower_cased() -> None:
    assert reason(PermissionError(errno.EACCES, "Permission denied", "/x")) == "permission denied"


def test_ffmpegs_words_as_they_are(tmp_path) -> None:
    (tmp_path / "bad.mov").write_text("not a video")
    with pytest.raises(av.error.FFmpegError) as caught:
        av.open(str(tmp_path / "bad.mov"))
    assert reason(caught.value) == "Invalid data found when processing input"


def test_the_first_clause_of_the_first_line_else_the_type() -> None:
    assert reason(ValueError("bad header; more detail.\nsecond line")) == "bad header"
    assert reason(RuntimeError("ends with a period.")) == "ends with a period"
    assert reason(KeyError()) == "KeyError"
    assert len(reason(ValueError("x" * 500))) == 160
