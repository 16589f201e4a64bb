"""3x3 convolutions on the CPU by Winograd's minimal filtering F(4x4, 3x3).

A 4x4 block of a 3x3 convolution's output is computed from the 6x6 input tile around it with 36
multiplications per channel pair instead of 144 (Lavin & Gray 2016): transform each tile
(B^T d B), multiply the transformed tiles and filters point by point, which over channels is
36 matrix products, and transform back (A^T m A). Exact in exact arithmetic; in fp32 the
transforms' constants (up to 8 and 1/24) add rounding of a few 1e-5 of the output's spread per
layer, about four times a direct convolution's. For the VGG layers with at least 64 channels in
and out this makes the convolution 1.2-2.6x faster than oneDNN's direct one on 2 AVX2 cores
(`bench/cpu_ceiling.py`); with fewer channels the transforms would cost more than they save.

Tiles are padded and gathered channels-last, a band of tile rows at a time, so the transformed
tiles stay in the cache and every copy moves whole channel vectors.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stylize.models.kernels.scratch import SCRATCH_KEEP_FLOATS, KernelMemory, empty_map, padded_rows
from stylize.models.sizing import rows_per_chunk

# Interpolation points 0, 1, -1, 2, -2 and infinity (Lavin & Gray's F(4x4, 3x3) matrices).
_B_T: list[list[float]] = [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
]
_G: list[list[float]] = [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
]
_A_T: list[list[float]] = [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
]
TILE = 6
OUT = 4


def _two_d(matrix: list[list[float]]) -> Tensor:
    """M x M as one matrix over flattened 2-D tiles, so each 2-D transform is one matrix product."""
    m = torch.tensor(matrix, dtype=torch.float64)
    return torch.kron(m, m).float()


_FILTER_2D, _OUTPUT_2D = _two_d(_G), _two_d(_A_T)
_INPUT_1D = torch.tensor(_B_T, dtype=torch.float32)
# Column 1 of A^T is all ones, so a constant added at tile point (1, 1) reaches all 16 outputs once:
# that is where the bias goes, on 1/36 of the products instead of on the whole output.
_BIAS_POINT = 1 * TILE + 1
MIN_CHANNELS = 64
# Floats of transformed tiles per band (8 MiB): stays in the last-level cache of small CPUs.
BAND_FLOATS = 2 << 20


def applies(conv: nn.Conv2d, x: Tensor) -> bool:
    """Whether `conv` (after a reflection pad of 1) on `x` should take this path: plain 3x3 convs
    with at least 64 channels each way, fp32 on the CPU, no autocast and no gradient."""
    return (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and not torch.is_grad_enabled()
        and not torch.is_autocast_enabled("cpu")
        and conv.kernel_size == (3, 3)
        and conv.stride == (1, 1)
        and conv.padding == (0, 0)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and min(conv.in_channels, conv.out_channels) >= MIN_CHANNELS
        and min(x.shape[-2:]) >= 2
    )


def filter_transform(weight: Tensor) -> Tensor:
    """(K, C, 3, 3) -> (36, C, K): G g G^T for every filter (one matrix product: it runs per model load)."""
    k, c = weight.shape[:2]
    filters = weight.detach().float().permute(1, 0, 2, 3).reshape(c * k, 9)
    return (_FILTER_2D.to(weight.device) @ filters.T).view(TILE * TILE, c, k)


def reflect_conv(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    relu: bool,
    memory: KernelMemory,
    out_name: str | None = None,
) -> Tensor:
    """relu?(conv2d(reflect_pad(x, 1), w, b)) for x (N, C, H, W), with `weight` from `filter_transform`.

    Returns (N, K, H, W) in channels-last layout, in `memory`'s scratch map `out_name` if given
    (else memory of its own); the band temporaries are `memory`'s scratch buffers.
    """
    n, c, h, w = x.shape
    k = weight.shape[2]
    tile_rows, tile_cols = -(-h // OUT), -(-w // OUT)
    shape_out = (n, k, tile_rows * OUT, tile_cols * OUT)
    out = empty_map(shape_out, x) if out_name is None else memory.map(out_name, shape_out, x)
    rows_per_band = rows_per_chunk(tile_cols, TILE * TILE * max(c, k) * n, BAND_FLOATS)
    for first in range(0, tile_rows, rows_per_band):
        last = min(tile_rows, first + rows_per_band)
        # Padded a band at a time: no padded copy of the whole map is ever made (a large, freshly
        # allocated buffer costs a page fault every 4 KiB) and each band is gathered while in cache.
        shape = (n, c, OUT * (last - first) + 2, tile_cols * OUT + 2)
        scratch_band = memory.map("winograd.band", shape, x, SCRATCH_KEEP_FLOATS)
        band = padded_rows(x, OUT * first, OUT * last + 2, shape[3], "reflect", scratch_band)
        _band(band, weight, bias, relu, out, first, last, memory)
    return out if (tile_rows * OUT, tile_cols * OUT) == (h, w) else out[:, :, :h, :w]


def _band(
    band: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    relu: bool,
    out: Tensor,
    first: int,
    last: int,
    memory: KernelMemory,
) -> None:
    """Padded rows [4 first, 4 last + 2) (`padded_rows`) -> output rows [4 first, 4 last) of `out`.

    The temporaries are `memory`'s scratch buffers, the same for every band and layer.
    """
    n, c = band.shape[:2]
    k = weight.shape[2]
    rows = last - first
    windows = band.unfold(2, TILE, OUT).unfold(3, TILE, OUT)
    cols = windows.shape[3]
    count = n * rows * cols
    points = TILE * TILE
    # (N, C, rows, cols, 6, 6) -> (36, count * C): tile point, then tile, then channel.
    tiles = memory.buffer("winograd.tiles", points * count * c, band)
    tiles.view(TILE, TILE, n, rows, cols, c).copy_(windows.permute(4, 5, 0, 2, 3, 1))
    # B^T d B as 6-point transforms of the tiles' rows, then of their columns: a third of the work
    # of one 36 x 36 product over flattened tiles, which took a quarter of a 64-channel layer's time.
    half = memory.buffer("winograd.half", points * count * c, band).view(TILE, TILE * count * c)
    torch.mm(_INPUT_1D, tiles.view(TILE, TILE * count * c), out=half)
    transformed = memory.buffer("winograd.transformed", points * count * c, band).view(points, count * c)
    torch.matmul(_INPUT_1D, half.view(TILE, TILE, count * c), out=transformed.view(TILE, TILE, count * c))
    products = memory.buffer("winograd.products", points * count * k, band).view(points, count, k)
    torch.bmm(transformed.view(points, count, c), weight, out=products)
    if bias is not None:
        products[_BIAS_POINT] += bias
    blocks = memory.buffer("winograd.blocks", OUT * OUT * count * k, band).view(OUT * OUT, count * k)
    torch.mm(_OUTPUT_2D, products.view(points, count * k), out=blocks)
    blocks = blocks.view(OUT, OUT, n, rows, cols, k)
    target = out[:, :, OUT * first : OUT * last].permute(0, 2, 3, 1).view(n, rows, OUT, cols, OUT, k)
    target = target.permute(2, 4, 0, 1, 3, 5)
    if relu:
        torch.clamp_min(blocks, 0, out=target)
    else:
        target.copy_(blocks)
