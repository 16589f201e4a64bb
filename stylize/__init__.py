"""stylize: arbitrary neural style transfer with AdaAttN and StyA2K, exact to the released weights.

>>> import stylize
>>> model = stylize.load_model("adaattn", weights="checkpoints/", device="auto")
>>> out = model(content, style)        # (N, 3, H, W) floats in [0, 1] -> raw output
>>> picture = model.stylize_pil(Image.open("photo.jpg"), Image.open("wave.jpg"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stylize._version import __version__
from stylize.errors import StylizeError
from stylize.weights.registry import available_models

if TYPE_CHECKING:
    import os

    from stylize.models.config import Compute
    from stylize.stylizer import PreparedStyle, Stylizer


def load_model(
    name: str,
    weights: str | os.PathLike[str] | None = None,
    device: str = "auto",
    precision: str = "fp32",
    compute: Compute | None = None,
) -> Stylizer:
    """Load a model's checkpoints onto a device.

    Args:
        name: "adaattn", "adaattn-video" or "stya2k" (see `available_models()`).
        weights: a folder (stylize's layout, an official checkout, or the files themselves) or
            the official zip. None searches $STYLIZE_WEIGHTS, the checkout's weights/ and the user
            data folder, then falls back to stylize's own trained weights where they exist.
        device: "auto", "cpu", "cuda" or "mps".
        precision: "fp32" (exact), "bf16" or "fp16" (autocast; fp16 falls back to bf16 on CPU).
        compute: attention policy ("official" or "full") and memory bounds.

    Returns:
        A `Stylizer`: `model(content, style)` gives the raw (unclamped) output.

    Raises:
        StylizeError: the weights are missing, unreadable, unsafe or of another model.
    """
    from stylize.device import resolve_device, resolve_precision
    from stylize.stylizer import Stylizer
    from stylize.weights.checkpoint import load_network
    from stylize.weights.locate import resolve
    from stylize.weights.registry import get_spec

    spec = get_spec(name)
    target = resolve_device(device)
    files = resolve(spec, weights)
    network, report = load_network(files)
    return Stylizer(
        network,
        spec,
        target,
        resolve_precision(precision, target),
        compute,
        bundled=files.bundled,
        verification=report,
        location=files.location,
    )


def __getattr__(name: str) -> object:
    # The heavy classes load on first use, so `import stylize` stays instant.
    if name in ("Stylizer", "PreparedStyle"):
        from stylize import stylizer

        return getattr(stylizer, name)
    raise AttributeError(name)


__all__ = ["PreparedStyle", "StylizeError", "Stylizer", "__version__", "available_models", "load_model"]
