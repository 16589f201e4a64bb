"""Decoders: the image decoder of AdaAttN and StyA2K (official `networks.Decoder(skip_connection_3=True)`)
and the relu3_1 decoder of AdaAttN's video model (`inference_frame.py`)."""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor, nn

from stylize.models.common import run_banded
from stylize.models.kernels.fused import run_layers
from stylize.models.kernels.scratch import KernelMemory


def _block(cin: int, cout: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, kernel_size=3)]
    return layers + [nn.ReLU()] if relu else layers


def _up() -> nn.Module:
    return nn.Upsample(scale_factor=2, mode="nearest")


def _relu3_to_image(first_in: int) -> list[nn.Module]:
    """The 25 layers from relu3_1 resolution to RGB shared by both decoders (indices 0..24)."""
    return [
        *_block(first_in, 256), *_block(256, 256), *_block(256, 256), *_block(256, 128), _up(),
        *_block(128, 128), *_block(128, 64), _up(),
        *_block(64, 64), *_block(64, 3, relu=False),
    ]  # fmt: skip


class Decoder(nn.Module):
    """relu4_1-level features plus the relu3_1 skip -> RGB (unbounded; no output activation).

    Keys: `decoder_layer_1.1.*`, `decoder_layer_2.{1,4,7,10,14,17,21,24}.*` (4,095,043 parameters).
    """

    # Rows of the relu4_1 grid spoiled at an inner band edge: 1 conv there, 4 at relu3_1, 2 at
    # relu2_1 and 2 at full size reach 7.5 relu3_1 rows; 6 relu4_1 rows (12 at relu3_1) are safe.
    BAND_HALO = 6

    def __init__(self) -> None:
        super().__init__()
        self.decoder_layer_1 = nn.Sequential(*_block(512, 256), _up())
        self.decoder_layer_2 = nn.Sequential(*_relu3_to_image(512))

    def forward(self, features: Tensor, skip: Tensor) -> Tensor:
        """features (N, 512, h, w) and skip (N, 256, 2h, 2w) -> (N, 3, 8h, 8w)."""
        x = self.decoder_layer_1(features)
        return self.decoder_layer_2(torch.cat([x, skip], dim=1))

    def decode(self, features: Tensor, skip: Tensor, band_pixels: int, memory: KernelMemory | None = None) -> Tensor:
        """`forward` in row bands of about `band_pixels` output pixels; with the fast paths' `memory`
        the convolutions fused (`fused.run_layers`: same values, less memory and time)."""
        rows = max(1, band_pixels // (64 * features.shape[-1]))
        step = self.forward if memory is None else partial(self._fused, memory=memory)
        return run_banded(step, [(features, 1), (skip, 2)], out_scale=8, band_rows=rows, halo=self.BAND_HALO)

    def _fused(self, features: Tensor, skip: Tensor, memory: KernelMemory) -> Tensor:
        x = run_layers(self.decoder_layer_1, features, memory)
        return run_layers(self.decoder_layer_2, torch.cat([x, skip], dim=1), memory)


class VideoDecoder(nn.Module):
    """AdaAttN video model: relu3_1-level features (N, 256, h, w) -> (N, 3, 4h, 4w).

    Keys: `decoder.{1,4,7,10,14,17,21,24}.*` (2,325,315 parameters).
    """

    BAND_HALO = 8  # 4 convs at relu3_1, then 2 at half and 2 at full size: 5.5 relu3_1 rows

    def __init__(self) -> None:
        super().__init__()
        self.decoder = nn.Sequential(*_relu3_to_image(256))

    def forward(self, features: Tensor) -> Tensor:
        return self.decoder(features)

    def decode(self, features: Tensor, band_pixels: int, memory: KernelMemory | None = None) -> Tensor:
        """`forward` in row bands; with the fast paths' `memory` the convolutions fused (same values,
        less memory and time)."""
        rows = max(1, band_pixels // (16 * features.shape[-1]))
        step = self.forward if memory is None else partial(run_layers, self.decoder, memory=memory)
        return run_banded(step, [(features, 1)], out_scale=4, band_rows=rows, halo=self.BAND_HALO)
