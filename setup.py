"""Packaging: the metadata is in setup.cfg; here the packages, among them stylize's own trained weights.

They live in weights/stylize/ of the checkout, beside their model cards, and are packaged as the
data of `stylize.weights.bundled`, so they travel inside the installed package whatever the install
(a venv, `pip install --user`, `--target`, `--prefix`); `stylize.weights.paths.bundled_root`
finds them there, or in the checkout when stylize runs from one.
"""

from setuptools import find_packages, setup

BUNDLED_PACKAGE = "stylize.weights.bundled"

setup(
    packages=[*find_packages(include=["stylize", "stylize.*"]), BUNDLED_PACKAGE],
    package_dir={BUNDLED_PACKAGE: "weights/stylize"},
    package_data={
        "stylize": ["weights/*.json"],
        # The derived encoder (vgg_normalised.pth, git-ignored) is made at run time, never shipped.
        BUNDLED_PACKAGE: ["LICENSE.md", "quality.json", "*/latest_net_*.pth", "*/MODEL_CARD.md"],
    },
)
