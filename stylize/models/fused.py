"""Faster, same-valued execution of the networks' convolution stacks.

Two rewrites, each exact in exact arithmetic (in fp32 the values agree to rounding):

- "upsample x2 (nearest), reflection pad, 3x3 conv" in the decoders. A 3x3 convolution of a
  nearest-upsampled map sees each input pixel twice in a row and twice in a column, so each of the
  four output phases is a 2x2 convolution of the input (with summed taps): 4 multiply-adds per
  output instead of 9. At the border, reflecting the upsampled map by one pixel repeats the edge
  pixel, which is replicate padding of the input.
- "reflection pad, 3x3 conv (, ReLU)" with wide channels, in fp32 on the CPU: Winograd's
  F(4x4, 3x3) (`winograd.py`), 4x fewer multiplications.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylize.models import winograd


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
    weight = _derived_weight(
        conv, "_phase_cache", lambda w: phase_weights(w.float()).contiguous(memory_format=torch.channels_last)
    )
    bias = conv.bias.detach().repeat(4) if conv.bias is not None else None
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
    """Run a Sequential's layers, upsample + reflection pad + conv and wide reflection pad + conv
    (+ ReLU) fused as above."""
    i = 0
    while i < len(layers):
        layer, following = layers[i], list(layers[i + 1 : i + 3])
        if isinstance(layer, nn.Upsample) and _is_padded_conv(following):
            x = upsample_conv(x, following[1])  # type: ignore[arg-type]
            i += 3
        elif _is_padded_conv([layer, *following[:1]]) and winograd.applies(following[0], x):  # type: ignore[arg-type]
            relu = len(following) > 1 and isinstance(following[1], nn.ReLU)
            x = winograd_conv(x, following[0], relu)  # type: ignore[arg-type]
            i += 3 if relu else 2
        else:
            x = layer(x)
            i += 1
    return x


def merge_deep(relu4: Tensor, relu5: Tensor, pad: nn.Module, conv: nn.Conv2d, fused: bool = False) -> Tensor:
    """Both papers' merge of the deep attention outputs: conv(pad(relu4 + upsample_x2(relu5))).

    relu4 (N, C, h, w) and relu5 (N, C, h/2, w/2) -> (N, K, h, w); `fused` runs the convolution
    through `run_layers` (Winograd where it applies), else exactly as released.
    """
    merged = relu4 + F.interpolate(relu5, scale_factor=2.0, mode="nearest")
    return run_layers([pad, conv], merged) if fused else conv(pad(merged))


def winograd_conv(x: Tensor, conv: nn.Conv2d, relu: bool) -> Tensor:
    """relu?(conv(reflect_pad(x, 1))) by Winograd F(4x4, 3x3); see `winograd.applies`."""
    weight = _derived_weight(conv, "_winograd_cache", winograd.filter_transform)
    bias = conv.bias.detach() if conv.bias is not None else None
    return winograd.reflect_conv(x, weight, bias, relu)


def _is_padded_conv(layers: Sequence[nn.Module]) -> bool:
    return (
        len(layers) >= 2
        and isinstance(layers[0], nn.ReflectionPad2d)
        and tuple(layers[0].padding) == (1, 1, 1, 1)
        and isinstance(layers[1], nn.Conv2d)
    )


def _derived_weight(conv: nn.Conv2d, slot: str, derive) -> Tensor:  # type: ignore[no-untyped-def]
    """`derive(conv.weight)`, computed once per weight value and kept on the module."""
    key = (conv.weight.data_ptr(), conv.weight._version)
    cached = getattr(conv, slot, None)
    if cached is None or cached[0] != key:
        cached = (key, derive(conv.weight.detach()))
        setattr(conv, slot, cached)
    return cached[1]
