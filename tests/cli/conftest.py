"""Fixtures of the command-line tests: no machine weights seen, quick options, one thread."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clitools import one_thread  # noqa: F401 (autouse)


@pytest.fixture(autouse=True)
def isolated_weights(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the machine's own weights folders, stylize's own weights or a mirror setting."""
    empty = tmp_path_factory.mktemp("no-weights")
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(empty))
    monkeypatch.setattr("stylize.weights.paths.bundled_root", lambda: None)
    monkeypatch.delenv("STYLIZE_WEIGHTS_MIRROR", raising=False)
    monkeypatch.delenv("STYLIZE_MAX_PIXELS", raising=False)
    return empty


@pytest.fixture
def fast(parity_weights: Path) -> list[str]:
    """Options for a quick run on the random-weight checkpoints: tiny styles, the CPU."""
    return ["--weights", str(parity_weights), "--style-size", "32", "--device", "cpu"]
