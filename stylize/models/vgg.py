"""The `vgg_normalised` VGG-19 encoder (AdaIN's file; the `vgg` Sequential of both official `networks.py`).

A 53-child `nn.Sequential` whose state-dict keys are the child indices, so `vgg_normalised.pth`
loads with `strict=True`. Inputs are RGB in [0, 1]; the first 1x1 convolution holds the Caffe
preprocessing (RGB -> BGR, x255, minus the mean).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from stylize.models.common import nearest_rows, resize_nearest
from stylize.models.kernels.fused import run_layers
from stylize.models.kernels.scratch import KernelMemory
from stylize.models.sizing import plan_bands

# (in, out) channels of the 16 3x3 convolutions, with "M" for the 2x2 max-pools.
_PLAN: list[tuple[int, int] | str] = [
    (3, 64), (64, 64), "M",
    (64, 128), (128, 128), "M",
    (128, 256), (256, 256), (256, 256), (256, 256), "M",
    (256, 512), (512, 512), (512, 512), (512, 512), "M",
    (512, 512), (512, 512), (512, 512), (512, 512),
]  # fmt: skip

# Child index ranges of the five stages; stage k ends at relu{k}_1.
STAGES = ((0, 4), (4, 11), (11, 18), (18, 31), (31, 44))
LAYER_NAMES = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
# Downsampling factor of each stage's output relative to the image.
STRIDES = (1, 2, 4, 8, 16)


def build_vgg_layers() -> list[nn.Module]:
    """The 53 children: the 1x1 preprocessing conv, then (pad, conv, relu) triples and pools."""
    layers: list[nn.Module] = [nn.Conv2d(3, 3, kernel_size=1)]
    for item in _PLAN:
        if isinstance(item, str):  # "M"
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=True))
        else:
            cin, cout = item
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, kernel_size=3), nn.ReLU()]
    assert len(layers) == 53
    return layers


@dataclass
class Encoded:
    """An image's encoder features, ready for building attention keys.

    `deep[i]` is the full feature map of layer i (0 = relu1_1 ... 4 = relu5_1) for the layers kept
    whole; `resized[(i, j)]` is layer i already resized (legacy nearest) to layer j's size, for
    shallow layers that were encoded in bands and never held whole.
    """

    deep: dict[int, Tensor]
    resized: dict[tuple[int, int], Tensor] = field(default_factory=dict)

    def size_of(self, layer: int) -> tuple[int, int]:
        h, w = self.deep[layer].shape[-2:]
        return int(h), int(w)

    def at_size_of(self, source: int, target: int) -> Tensor:
        """Layer `source` resized to layer `target`'s size, (N, C, h, w)."""
        if (source, target) in self.resized:
            return self.resized[(source, target)]
        return resize_nearest(self.deep[source], self.size_of(target))


class VGGEncoder(nn.Sequential):
    """The frozen encoder. Use `features()` for the plain forward, `encode()` for bounded memory."""

    def __init__(self) -> None:
        super().__init__(*build_vgg_layers())
        self.requires_grad_(False)

    def stage(self, index: int) -> nn.Sequential:
        start, stop = STAGES[index]
        return nn.Sequential(*list(self)[start:stop])

    def features(self, image: Tensor, upto: int = 5, memory: KernelMemory | None = None) -> list[Tensor]:
        """relu1_1 ... relu{upto}_1 of `image` (N, 3, H, W) in [0, 1], the official way, or with
        the fast paths' `memory` the wide convolutions by Winograd where that applies (`fused.run_layers`).

        Returns:
            `upto` tensors; layer k is (N, C_k, ceil(H / 2^k), ceil(W / 2^k)).
        """
        feats = []
        x = image
        for k in range(upto):
            x = self._run_stage(k, x, memory)
            feats.append(x)
        return feats

    def _run_stage(self, index: int, x: Tensor, memory: KernelMemory | None) -> Tensor:
        return self.stage(index)(x) if memory is None else run_layers(self.stage(index), x, memory)

    def encode(
        self,
        image: Tensor,
        upto: int = 5,
        key_targets: tuple[int, ...] = (),
        band_pixels: int | None = None,
        memory: KernelMemory | None = None,
    ) -> Encoded:
        """Encode with the first three stages run in row bands when the image is large.

        Args:
            image: (N, 3, H, W) in [0, 1].
            upto: number of layers to compute (3 for the video model, 5 otherwise).
            key_targets: layers whose attention keys will need relu1_1 and relu2_1 resized to
                their size; only those resized copies of the two big shallow maps are kept.
            band_pixels: image pixels per band; None or an image that fits runs in one piece.
            memory: the fast paths' memory (`fused.run_layers`); None runs the plain layers.

        Returns:
            relu3_1 and deeper whole; relu1_1 and relu2_1 whole when run in one piece, else
            only resized to the key targets. Values equal `features()` (fp32 rounding aside:
            with `memory` the wide convolutions are computed by Winograd's algorithm on the CPU).
        """
        height, width = image.shape[-2:]
        if band_pixels is None or height * width <= band_pixels or upto < 3:
            feats = self.features(image, upto, memory)
            return Encoded(dict(enumerate(feats)))
        band_rows = max(4, band_pixels // width)
        # A 3x3 conv at an inner band edge spoils one row at its resolution: 2 rows at full size,
        # 2 at half and 1 at quarter size reach 12 image rows; 16 keeps the pools aligned.
        bands = plan_bands(height, band_rows, halo=16, align=4)
        relu3_parts: list[Tensor] = []
        shallow_parts: dict[tuple[int, int], list[Tensor]] = {}
        full_sizes = [(_ceil_div(height, s), _ceil_div(width, s)) for s in STRIDES]
        target_sizes = {t: full_sizes[t] for t in key_targets}
        for band in bands:
            x = image[..., band.context_start : band.context_stop, :]
            relu1 = self._run_stage(0, x, memory)
            relu2 = self._run_stage(1, relu1, memory)
            relu3 = self._run_stage(2, relu2, memory)
            top, bottom = band.crop
            for source, feat in ((0, relu1), (1, relu2)):
                stride = STRIDES[source]
                kept = feat[..., top // stride : _ceil_div(bottom, stride), :]
                for target, size in target_sizes.items():
                    part = _rows_of_resize(kept, band.start // stride, full_sizes[source], size)
                    shallow_parts.setdefault((source, target), []).append(part)
            relu3_parts.append(relu3[..., top // 4 : _ceil_div(bottom, 4), :])
            del relu1, relu2, relu3
        deep = {2: torch.cat(relu3_parts, dim=-2)}
        x = deep[2]
        for k in range(3, upto):
            x = self._run_stage(k, x, memory)
            deep[k] = x
        resized = {key: torch.cat(parts, dim=-2) for key, parts in shallow_parts.items()}
        return Encoded(deep, resized)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _rows_of_resize(band: Tensor, band_start: int, full_size: tuple[int, int], size: tuple[int, int]) -> Tensor:
    """The rows of `resize_nearest(full, size)` whose source rows fall inside this band of `full`."""
    rows = nearest_rows(full_size[0], size[0], band.device)
    cols = nearest_rows(full_size[1], size[1], band.device)
    inside = (rows >= band_start) & (rows < band_start + band.shape[-2])
    return band.index_select(-2, rows[inside] - band_start).index_select(-1, cols)
