"""The official computation, step for step: the yardstick the optimised path is tested and timed against.

Follows `adaattn_model.py`/`networks.py` (AdaAttN), `inference_frame.py` (video) and
`A2K_model.py`/`networks.py` (StyA2K) on the same modules and weights: whole tensors, every
style quantity recomputed per pair, the size rules of the released code (AdaAttN: sides multiples
of 16; StyA2K: square, same-size style, side a multiple of 64). Memory grows quadratically.
Each network's `official_forward` composes its layers; the layer computations (`adaattn_layer`,
`a2k_layer`) sit beside the modules they read.
"""

from __future__ import annotations

from torch import Tensor

from stylize.models.adaattn import adaattn_layer
from stylize.models.config import OFFICIAL_SEED
from stylize.models.network import StyleNetwork
from stylize.models.stya2k import a2k_layer


def reference_forward(net: StyleNetwork, content: Tensor, style: Tensor, seed: int = OFFICIAL_SEED) -> Tensor:
    """The official output (N, 3, H, W) for a network, on the sizes the released code supports."""
    encoder = net.encoder
    return net.official_forward(encoder.features(content, net.depth), encoder.features(style, net.depth), seed)


__all__ = ["a2k_layer", "adaattn_layer", "reference_forward"]
