"""The fused upsample-convolution gives the plain layers' values."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stylize.models.decoder import Decoder, VideoDecoder
from stylize.models.fused import run_layers, upsample_conv


@pytest.mark.parametrize("size", [(1, 1), (5, 7), (16, 12)])
def test_upsample_conv_equals_upsample_pad_conv(size: tuple[int, int]) -> None:
    g = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(6, 4, kernel_size=3)
    x = torch.randn(2, 6, *size, generator=g)
    plain = conv(F.pad(F.interpolate(x, scale_factor=2.0, mode="nearest"), (1, 1, 1, 1), mode="reflect"))
    with torch.inference_mode():
        assert torch.allclose(upsample_conv(x, conv), plain, atol=1e-5)


def test_decoders_fused_and_banded_equal_forward() -> None:
    torch.manual_seed(0)
    decoder, video = Decoder().eval(), VideoDecoder().eval()
    features, skip = torch.randn(1, 512, 9, 6), torch.randn(1, 256, 18, 12)
    with torch.inference_mode():
        expected = decoder(features, skip)
        assert torch.allclose(decoder.decode(features, skip, band_pixels=1 << 30), expected, atol=1e-4)
        assert torch.allclose(decoder.decode(features, skip, band_pixels=64 * 6 * 2), expected, atol=1e-4)
        relu3 = torch.randn(1, 256, 13, 10)
        assert torch.allclose(video.decode(relu3, band_pixels=16 * 10 * 3), video(relu3), atol=1e-4)
        last = list(video.decoder)[-2:]  # pad + 64 -> 3 conv: too narrow for Winograd, run as it is
        small = torch.randn(1, 64, 7, 5)
        assert torch.equal(run_layers(last, small), nn.Sequential(*last)(small))
