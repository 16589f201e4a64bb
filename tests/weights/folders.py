"""Weights folders for the tests, made of links to the parity weights (no copying)."""

from __future__ import annotations

import os
from pathlib import Path

from stylize.errors import WeightsError

ADAATTN_FILES = ["latest_net_adaattn_3.pth", "latest_net_transformer.pth", "latest_net_decoder.pth"]

STYA2K_FILES = ["latest_net_A2K.pth", "latest_net_transform.pth", "latest_net_decoder.pth"]


def link(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(src, dst)
    return dst


def plain_adaattn(parity_weights: Path, folder: Path) -> Path:
    """A plain folder holding the four AdaAttN files (symlinks, no copying)."""
    for name in ADAATTN_FILES:
        link(parity_weights / "adaattn" / name, folder / name)
    link(parity_weights / "vgg_normalised.pth", folder / "vgg_normalised.pth")
    return folder


def one_line(error: WeightsError) -> str:
    assert "\n" not in error.message
    return error.message
