"""Packaging: the metadata is in setup.cfg; here only stylize's own trained weights, which live in
weights/stylize/ of the checkout and go to <prefix>/share/stylize/weights/stylize/ in a wheel, so an
installed stylize finds them too (`stylize.weights.bundled`)."""

from pathlib import Path

from setuptools import setup

BUNDLED = Path("weights") / "stylize"


def bundled_weights() -> list[tuple[str, list[str]]]:
    folders = [BUNDLED, *sorted(p for p in BUNDLED.iterdir() if p.is_dir())] if BUNDLED.is_dir() else []
    entries = []
    for folder in folders:
        # The derived encoder (vgg_normalised.pth, git-ignored) is made at run time, never shipped.
        files = sorted(str(p) for p in folder.iterdir() if p.name.startswith(("latest_net_", "MODEL_CARD", "LICENSE")))
        if files:
            entries.append((str(Path("share/stylize") / folder), files))
    return entries


setup(data_files=bundled_weights())
