"""Faster, same-valued execution of the networks' convolution stacks.

Two rewrites, each exact in exact arithmetic (in fp32 the values agree to rounding):

- "upsample x2 (nearest), reflection pad, 3x3 conv" in the decoders. A 3x3 convolution of a
  nearest-upsampled map sees each input pixel twice in a row and twice in a column, so each of the
  four output phases is a 2x2 convolution of the input (with summed taps): 4 multiply-adds per
  output instead of 9. At the border, reflecting the upsampled map by one pixel repeats the edge
  pixel, which is replicate padding of the input.
- "reflection pad, 3x3 conv (, ReLU)" with wide channels, in fp32 on the CPU: Winograd's
  F(4x4, 3x3) (`winograd.py`), 4x fewer multiplications.

On the CPU both run a band of rows at a time, each band padded on its own (`scratch.padded_rows`):
no padded copy of a whole map is made, which saves a pass over memory and the page faults of a
large fresh buffer (one per 4 KiB; together they were a tenth of a 512² AdaAttN image's time).

Every function here takes the model's `KernelMemory` (`scratch.py`): its scratch buffers and the
weights derived from the model's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylize.models.kernels import winograd
from stylize.models.kernels.scratch import KernelMemory, Shape4, empty_map, padded_rows
from stylize.models.sizing import rows_per_chunk


def _taps(w: Tensor, dim: int, phase: int) -> Tensor:
    """Collapse 3 taps along `dim` into the 2 an output of this phase sees (even: a-1, a; odd: a, a+1)."""
    t0, t1, t2 = w.unbind(dim)
    pair = (t0, t1 + t2) if phase == 0 else (t0 + t1, t2)
    return torch.stack(pair, dim)


def phase_weights(weight: Tensor) -> Tensor:
    """(K, C, 3, 3) -> (4K, C, 2, 2): the kernels of output phases (0,0), (0,1), (1,0), (1,1)."""
    kernels = [_taps(_taps(weight, 2, py), 3, px) for py in (0, 1) for px in (0, 1)]
    return torch.cat(kernels, dim=0)


def _phase_kernels(weight: Tensor) -> Tensor:
    return phase_weights(weight.float()).contiguous(memory_format=torch.channels_last)


def upsample_conv(
    x: Tensor, conv: nn.Conv2d, memory: KernelMemory, relu: bool = False, out_name: str | None = None
) -> Tensor:
    """relu?(conv(reflect_pad(upsample_nearest_x2(x)))) for x (N, C, H, W) -> (N, K, 2H, 2W), channels-last
    (in `memory`'s scratch map `out_name` if given)."""
    weight = memory.derived(conv.weight, "phase", _phase_kernels)
    bias = conv.bias.detach().repeat(4) if conv.bias is not None else None
    n, _, h, w = x.shape
    k = conv.out_channels
    out: Tensor | None = None  # made at the first band, in its dtype (autocast: bf16 for fp32 input)
    # On the CPU in bands of input rows, so that a band's phase outputs are scattered while in the cache.
    rows = rows_per_chunk(w + 1, 4 * k * n, winograd.BAND_FLOATS) if _bands_apply(x) else h
    for start in range(0, h, rows):
        stop = min(h, start + rows)
        # Output rows of phase py come from phase-conv rows py .. py + band: padded rows start .. stop + 1.
        y = F.conv2d(padded_rows(x, start, stop + 2, w + 2, "replicate"), weight, bias)
        y = (y.relu_() if relu else y).view(n, 2, 2, k, stop - start + 1, w + 1)
        out = out if out is not None else _new_map((n, k, 2 * h, 2 * w), y, memory, out_name)
        for py in (0, 1):
            for px in (0, 1):
                target = out[:, :, 2 * start + py : 2 * stop : 2, px::2]
                target.copy_(y[:, py, px, :, py : py + stop - start, px : px + w])
    assert out is not None
    return out


def padded_conv(
    x: Tensor, conv: nn.Conv2d, memory: KernelMemory, relu: bool = False, out_name: str | None = None
) -> Tensor:
    """relu?(conv(reflect_pad(x, 1))) for x (N, C, H, W) on the CPU without gradients -> channels-last
    (in `memory`'s scratch map `out_name` if given).

    By Winograd where that applies, else directly, a band of rows at a time.
    """
    if winograd.applies(conv, x):
        return winograd_conv(x, conv, memory, relu, out_name)
    n, _, h, w = x.shape
    k = conv.out_channels
    out: Tensor | None = None  # made at the first band, in its dtype
    rows = rows_per_chunk(w + 2, max(conv.in_channels, k) * n, winograd.BAND_FLOATS)
    for start in range(0, h, rows):
        stop = min(h, start + rows)
        y = conv(padded_rows(x, start, stop + 2, w + 2, "reflect"))
        out = out if out is not None else _new_map((n, k, h, w), y, memory, out_name)
        out[:, :, start:stop] = y.relu_() if relu else y
    assert out is not None
    return out


def run_layers(layers: Sequence[nn.Module] | nn.Sequential, x: Tensor, memory: KernelMemory) -> Tensor:
    """Run a Sequential's layers; without gradients, "upsample, reflection pad, conv" and (on the
    CPU) "reflection pad, conv" fused as above, and a ReLU after a convolution applied to its fresh
    output in place (or inside the fused step).

    On the CPU the fused steps' intermediate maps alternate between two of `memory`'s scratch maps
    (a fresh map of tens of MiB is page-faulted in again for every image); the map returned has
    memory of its own.
    """
    # The fused steps use weights derived without gradient; training runs the layers as they are.
    fusing = not torch.is_grad_enabled()
    reuse = fusing and x.device.type == "cpu"
    slot: int | None = None  # the scratch map x lives in, if any
    i = 0
    while i < len(layers):
        layer, following = layers[i], list(layers[i + 1 : i + 3])
        if fusing and isinstance(layer, nn.Upsample) and _is_padded_conv(following):
            step, conv, used = upsample_conv, following[1], 3
        elif fusing and _is_padded_conv([layer, *following[:1]]) and _bands_apply(x):
            step, conv, used = padded_conv, following[0], 2
        else:
            step, conv, used = None, layer, 1
        relu = fusing and i + used < len(layers) and isinstance(layers[i + used], nn.ReLU)
        if step is not None:
            last = i + used + relu == len(layers)
            target = None if last or not reuse else 1 - (slot or 0)
            x = step(x, conv, memory, relu, None if target is None else f"fused.map{target}")  # type: ignore[arg-type]
            slot = target
        else:
            y = layer(x)
            relu = relu and isinstance(layer, nn.Conv2d)
            if relu:
                y = y.relu_()
            slot = slot if _same_memory(x, y) else None
            x = y
        i += used + relu
    return x if slot is None else x.clone(memory_format=torch.channels_last)


def _same_memory(a: Tensor, b: Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def _bands_apply(x: Tensor) -> bool:
    """Whether convolutions run in row bands: on the CPU (on a GPU the bands' extra kernel launches
    cost more than the cache saves), maps of at least 2 x 2 (reflection)."""
    return x.device.type == "cpu" and min(x.shape[-2:]) >= 2


def merge_deep(
    relu4: Tensor, relu5: Tensor, pad: nn.Module, conv: nn.Conv2d, memory: KernelMemory | None = None
) -> Tensor:
    """Both papers' merge of the deep attention outputs: conv(pad(relu4 + upsample_x2(relu5))).

    relu4 (N, C, h, w) and relu5 (N, C, h/2, w/2) -> (N, K, h, w); with `memory` the convolution
    runs through `run_layers` (Winograd where it applies), else exactly as released.
    """
    merged = relu4 + F.interpolate(relu5, scale_factor=2.0, mode="nearest")
    return conv(pad(merged)) if memory is None else run_layers([pad, conv], merged, memory)


def winograd_conv(x: Tensor, conv: nn.Conv2d, memory: KernelMemory, relu: bool, out_name: str | None = None) -> Tensor:
    """relu?(conv(reflect_pad(x, 1))) by Winograd F(4x4, 3x3); see `winograd.applies`."""
    weight = memory.derived(conv.weight, "winograd", winograd.filter_transform)
    bias = conv.bias.detach() if conv.bias is not None else None
    return winograd.reflect_conv(x, weight, bias, relu, memory, out_name)


def _new_map(shape: Shape4, like: Tensor, memory: KernelMemory, name: str | None) -> Tensor:
    return empty_map(shape, like) if name is None else memory.map(name, shape, like)


def _is_padded_conv(layers: Sequence[nn.Module]) -> bool:
    return (
        len(layers) >= 2
        and isinstance(layers[0], nn.ReflectionPad2d)
        and tuple(layers[0].padding) == (1, 1, 1, 1)
        and isinstance(layers[1], nn.Conv2d)
    )
