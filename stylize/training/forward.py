"""The differentiable forward pass of each network, on encoder features computed once per batch.

The optimised `remember_style`/`attend`/`decode` path runs under `torch.inference_mode` and works in
bands; training needs autograd through whole tensors, so it uses the network's own modules with the
plain official layer computations of `stylize.models.reference`. Attention runs in float32 (autocast
off): its std = sqrt(E[v^2] - E[v]^2) cancels badly in bf16. The encoder, merge conv and decoder
follow the caller's autocast.
"""

from __future__ import annotations

import torch
from torch import Tensor

from stylize.models.adaattn import AdaAttN, AdaAttNNet, AdaAttNVideoNet
from stylize.models.common import shallow_key
from stylize.models.network import StyleNetwork
from stylize.models.reference import a2k_layer, adaattn_layer
from stylize.models.stya2k import StyA2KNet


def _fp32(device: torch.device) -> torch.autocast:
    return torch.autocast(device_type=device.type, enabled=False)


def stylise(net: StyleNetwork, content: list[Tensor], style: list[Tensor], seed: int) -> Tensor:
    """The decoder output (N, 3, H, W), unclamped, for encoder features of content and style.

    Args:
        net: an `AdaAttNNet`, `AdaAttNVideoNet` or `StyA2KNet`.
        content, style: [relu1_1, ...] (at least `net.depth` layers), (N, C, h, w) each; a style of
            batch N (one style per content).
        seed: seed of the official style-key sample (only used when a layer has more positions
            than its module's `max_sample`).
    """
    device = content[0].device
    cf = [f.float() for f in content[: net.depth]]
    sf = [f.float() for f in style[: net.depth]]

    def attention(module: AdaAttN, i: int) -> Tensor:
        with _fp32(device):
            return adaattn_layer(module, cf[i], sf[i], shallow_key(cf, i), shallow_key(sf, i), seed)

    if isinstance(net, AdaAttNNet):
        skip = attention(net.adaattn_3, 2)
        t = net.transformer
        merged = t.merge(attention(t.attn_adain_4_1, 3), attention(t.attn_adain_5_1, 4))
        return net.decoder(merged, skip)
    if isinstance(net, AdaAttNVideoNet):
        return net.decoder(attention(net.transformer, 2))
    if isinstance(net, StyA2KNet):
        with _fp32(device):
            skip = a2k_layer(net.A2K, cf[2], sf[2])
            relu4 = a2k_layer(net.transform.attn_adain_4_1, cf[3], sf[3])
            relu5 = a2k_layer(net.transform.attn_adain_5_1, cf[4], sf[4])
        return net.decoder(net.transform.merge(relu4, relu5), skip)
    raise TypeError(f"cannot train a {type(net).__name__}")
