"""Faster, same-valued execution of the decoders' "upsample x2 (nearest), reflection pad, 3x3 conv".

A 3x3 convolution of a nearest-upsampled map sees each input pixel twice in a row and twice in a
column, so each of the four output phases is a 2x2 convolution of the input (with summed taps):
4 multiply-adds per output instead of 9. At the border, reflecting the upsampled map by one pixel
repeats the edge pixel, which is replicate padding of the input. Same sums, other order: the
values agree to float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _taps(w: Tensor, dim: int, phase: int) -> Tensor:
    """Collapse 3 taps along `dim` into the 2 an output of this phase sees (even: a-1, a; odd: a, a+1)."""
    t0, t1, t2 = w.unbind(dim)
    pair = (t0, t1 + t2) if phase == 0 else (t0 + t1, t2)
    return torch.stack(pair, dim)


def phase_weights(weight: Tensor) -> Tensor:
    """(K, C, 3, 3) -> (4K, C, 2, 2): the kernels of output phases (0,0), (0,1), (1,0), (1,1)."""
    kernels = [_taps(_taps(weight, 2, py), 3, px) for py in (0, 1) for px in (0, 1)]
    return torch.cat(kernels, dim=0)


def upsample_conv(x: Tensor, conv: nn.Conv2d) -> Tensor:
    """conv(reflect_pad(upsample_nearest_x2(x))) for x (N, C, H, W) -> (N, K, 2H, 2W)."""
    key = (conv.weight.data_ptr(), conv.weight._version)
    cached = getattr(conv, "_phase_cache", None)
    if cached is None or cached[0] != key:
        weight = phase_weights(conv.weight.detach().float()).contiguous(memory_format=torch.channels_last)
        bias = conv.bias.detach().repeat(4) if conv.bias is not None else None
        cached = (key, weight, bias)
        conv._phase_cache = cached  # type: ignore[assignment]
    _, weight, bias = cached
    n, _, h, w = x.shape
    k = conv.out_channels
    y = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), weight, bias)
    y = y.view(n, 2, 2, k, h + 1, w + 1)
    out = torch.empty(n, k, 2 * h, 2 * w, dtype=y.dtype, device=y.device, memory_format=torch.channels_last)
    for py in (0, 1):
        for px in (0, 1):
            out[:, :, py::2, px::2] = y[:, py, px, :, py : py + h, px : px + w]
    return out


def run_layers(layers: Sequence[nn.Module] | nn.Sequential, x: Tensor) -> Tensor:
    """Run a Sequential's layers, each upsample + reflection pad + conv triple fused as above."""
    i = 0
    while i < len(layers):
        layer = layers[i]
        if (
            isinstance(layer, nn.Upsample)
            and i + 2 < len(layers)
            and isinstance(layers[i + 1], nn.ReflectionPad2d)
            and isinstance(layers[i + 2], nn.Conv2d)
        ):
            x = upsample_conv(x, layers[i + 2])  # type: ignore[arg-type]
            i += 3
        else:
            x = layer(x)
            i += 1
    return x
