"""Pieces shared by AdaAttN, its video variant and StyA2K (official `models/networks.py` of both repos).

Everything here is a pure tensor function. Shapes use N for batch, C for channels, H x W for space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

from stylize.models.sizing import iter_chunks, plan_bands, rows_per_chunk

EPS = 1e-5


# Elements of a band of centred squares in `mean_std` (4 MiB of fp32: in the cache).
STATISTICS_BAND_FLOATS = 1 << 20


def mean_std(feat: Tensor, eps: float = EPS) -> tuple[Tensor, Tensor]:
    """Per-sample, per-channel mean and standard deviation over space.

    Args:
        feat: (N, C, H, W) float.

    Returns:
        mean and std, each (N, C, 1, 1). The variance is the unbiased one (divides by H*W - 1),
        as in the official `calc_mean_std`; std = sqrt(var + eps).
    """
    # Two passes (the mean, then centred squares) instead of torch.var_mean: the same value to
    # fp32 rounding, and var_mean's reduction is 4-12x slower on these maps (channels-last or not).
    # The squares are summed a band of rows at a time: no temporary the size of the map.
    n, c, h, w = feat.shape
    mean = feat.mean(dim=(2, 3), keepdim=True)
    squares = torch.zeros_like(mean)
    for start, stop in iter_chunks(h, rows_per_chunk(w, n * c, STATISTICS_BAND_FLOATS)):
        squares = squares + (feat[:, :, start:stop] - mean).square().sum(dim=(2, 3), keepdim=True)
    return mean, (squares / (h * w - 1) + eps).sqrt()


def mvn(feat: Tensor) -> Tensor:
    """Mean-variance normalisation, (N, C, H, W) -> same shape, computed in float32."""
    dtype = feat.dtype
    feat = feat.float()
    mean, std = mean_std(feat)
    return ((feat - mean) / std).to(dtype)


def nearest_rows(size_in: int, size_out: int, device: torch.device | None = None) -> Tensor:
    """The source indices PyTorch's legacy `nearest` interpolation picks for one axis.

    Asking `F.interpolate` itself keeps us exact to the official `get_key` (which resizes with the
    default mode) for every ratio, including the non-integer ones of odd sizes.
    """
    ramp = torch.arange(size_in, dtype=torch.float32, device=device).view(1, 1, size_in, 1)
    picked = F.interpolate(ramp, size=(size_out, 1), mode="nearest")
    return picked.view(size_out).long()


def resize_nearest(feat: Tensor, size: tuple[int, int]) -> Tensor:
    """`F.interpolate(feat, size)` (legacy nearest) done as a gather, so it also works in bands."""
    h, w = feat.shape[-2:]
    if (h, w) == tuple(size):
        return feat
    if h % size[0] == 0 and w % size[1] == 0:  # whole ratios pick every k-th pixel: a view, no copy
        return feat[..., :: h // size[0], :: w // size[1]]
    rows = nearest_rows(h, size[0], feat.device)
    cols = nearest_rows(w, size[1], feat.device)
    return feat.index_select(-2, rows).index_select(-1, cols)


def shallow_key(feats: list[Tensor], layer: int, shallow: bool = True) -> Tensor:
    """The official `get_key`: the attention key of encoder layer `layer` (0 = relu1_1 ... 4 = relu5_1).

    Each shallower feature is resized (legacy nearest) to the layer's size and mean-variance
    normalised on its own; all are concatenated shallow -> deep. Without `shallow`, or at layer 0,
    the key is just the normalised feature.
    """
    target = feats[layer]
    if not shallow or layer == 0:
        return mvn(target)
    size = (int(target.shape[-2]), int(target.shape[-1]))
    parts = [mvn(resize_nearest(feats[i], size)) for i in range(layer)]
    parts.append(mvn(target))
    return torch.cat(parts, dim=1)


class KeySource:
    """The key of one layer: shallow -> deep parts, each mean-variance normalised, concatenated.

    The official key is `cat([mvn(part) for part in parts])`; holding it whole costs C_key x H x W
    floats (448 channels at relu3_1), so only the statistics are computed up front and rows are
    served a band at a time. With `normalise=False` the parts are used as they are (a key
    computed elsewhere).
    """

    def __init__(self, parts: list[Tensor], normalise: bool = True) -> None:
        self.parts = parts
        if normalise:
            stats = [mean_std(p.float()) for p in parts]
            self.mean: Tensor | None = torch.cat([m.flatten(1) for m, _ in stats], dim=1)  # (N, C_key)
            self.std: Tensor | None = torch.cat([s.flatten(1) for _, s in stats], dim=1)
        else:
            self.mean = self.std = None

    def raw_rows(self, start: int, stop: int) -> Tensor:
        """Un-normalised key rows [start, stop) as positions: (N, (stop - start) * W, C_key)."""
        rows = torch.cat([p[..., start:stop, :] for p in self.parts], dim=1)
        return rows.permute(0, 2, 3, 1).reshape(rows.shape[0], -1, rows.shape[1])

    def rows(self, start: int, stop: int) -> Tensor:
        """Normalised key rows [start, stop) as positions: (N, (stop - start) * W, C_key)."""
        rows = self.raw_rows(start, stop)
        if self.mean is None or self.std is None:
            return rows
        return ((rows.float() - self.mean[:, None]) / self.std[:, None]).to(rows.dtype)


def key_parts(feats: FeatureLookup, layer: int, shallow: bool = True) -> list[Tensor]:
    """The un-normalised parts of the official `get_key` for `layer`, shallow -> deep."""
    if not shallow or layer == 0:
        return [feats.at_size_of(layer, layer)]
    return [feats.at_size_of(i, layer) for i in range(layer + 1)]


class FeatureLookup(Protocol):
    """Anything that can give layer i resized to layer j's size (see `vgg.Encoded`)."""

    def at_size_of(self, source: int, target: int) -> Tensor: ...


class AttnMemory:
    """What one attention layer keeps of a style: keys and the values' first two moments.

    Attributes:
        keys: (N, C_key, S) style keys (S style positions, possibly sampled); for softmax
            attention the content-side projection is folded in (see `AdaAttN.remember`).
        key_bias: (N, 1, S) the per-key score offset of that folding, or None.
        moments: (N, S, 2C) the values centred on `centre`, then their squares.
        centre: (N, 1, C) per-channel mean of the values.
    """

    def __init__(self, keys: Tensor, values: Tensor, key_bias: Tensor | None = None) -> None:
        self.keys = keys
        self.key_bias = key_bias
        self.centre = values.float().mean(dim=1, keepdim=True)
        shifted = values.float() - self.centre
        # Squares overflow fp16 (max 65504) for values beyond 256: only bf16 is kept in half precision.
        keep = torch.bfloat16 if values.dtype == torch.bfloat16 else torch.float32
        self.moments = torch.cat([shifted, shifted * shifted], dim=-1).to(keep)

    def read(self, attn: Tensor) -> tuple[Tensor, Tensor]:
        """Attention-weighted mean and std of the values.

        Args:
            attn: (N, Q, S) weights, rows summing to 1.

        Returns:
            mean, std: (N, Q, C) float32. std = sqrt(relu(E[v^2] - E[v]^2)), no epsilon, as released.

        NOTE: the values are centred on their own mean before the product (the mean is added back).
        The variance is shift-invariant, so this is the released formula, but E[v^2] - E[v]^2 then
        cancels far less, which keeps half precision usable.
        """
        c = self.centre.shape[-1]
        if self.moments.dtype == torch.float32:
            with torch.autocast(attn.device.type, enabled=False):
                moments = torch.matmul(attn.float(), self.moments)
        else:
            moments = torch.matmul(attn.to(self.moments.dtype), self.moments).float()
        mean, second = moments[..., :c], moments[..., c:]
        std = torch.relu(second - mean * mean).sqrt_()
        return mean + self.centre, std


def run_banded(
    fn: Callable[..., Tensor],
    inputs: Sequence[tuple[Tensor, int]],
    out_scale: int,
    band_rows: int,
    halo: int,
) -> Tensor:
    """Apply a stack of local operations to row bands with an overlap and stitch the exact result.

    Args:
        fn: takes the inputs' bands, returns the output band.
        inputs: (tensor, rows per base row) pairs; the first input's rows define the base grid.
        out_scale: output rows per base row.
        band_rows: base rows per band.
        halo: base rows of overlap; must exceed how far a band edge spoils values.

    Returns:
        The same tensor as `fn(*[t for t, _ in inputs])`, computed band by band.
    """
    base_rows = int(inputs[0][0].shape[-2])
    if band_rows >= base_rows:
        return fn(*[t for t, _ in inputs])
    pieces = []
    for band in plan_bands(base_rows, band_rows, halo):
        args = [t[..., band.context_start * s : band.context_stop * s, :] for t, s in inputs]
        top, bottom = band.crop
        pieces.append(fn(*args)[..., top * out_scale : bottom * out_scale, :])
    return torch.cat(pieces, dim=-2)


def scores(a: Tensor, b: Tensor, bias: Tensor | None = None) -> Tensor:
    """Attention scores `a @ b (+ bias)` as float32.

    The released code uses no 1/sqrt(d) scale, so scores reach values fp16 cannot hold: fp16
    inputs are multiplied in float32. bf16 (fp32's range) is multiplied as it is, for speed.
    """
    if a.dtype == torch.float16 or b.dtype == torch.float16:
        with torch.autocast(a.device.type, enabled=False):
            return scores(a.float(), b.float(), None if bias is None else bias.float())
    out = torch.matmul(a, b).float()
    # Not baddbmm: its copy of the broadcast bias into the output is slower than this add.
    return out if bias is None else out.add_(bias.float())


def softmax_(x: Tensor) -> Tensor:
    """Softmax over the last axis, in place (the score tensors are the largest the model holds).

    The unscaled scores spread widely, and exp of an argument below -87 (a result under fp32's
    smallest normal number) takes a path about 8x slower on x86. Those weights are below 1.7e-38
    of the row's largest, far under what a row sum of at least 1 can resolve, so raising them to
    exp(-87) does not change the result.
    """
    x.sub_(x.amax(dim=-1, keepdim=True)).clamp_(min=-87.0).exp_()
    return x.div_(x.sum(dim=-1, keepdim=True))
