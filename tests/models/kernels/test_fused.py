"""The fused and banded convolutions give the plain layers' values."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stylize.models.decoder import Decoder, VideoDecoder
from stylize.models.kernels import winograd
from stylize.models.kernels.fused import padded_conv, run_layers, upsample_conv
from stylize.models.kernels.scratch import KernelMemory


@pytest.mark.parametrize("size", [(1, 1), (5, 7), (16, 12)])
@pytest.mark.parametrize("band_floats", [winograd.BAND_FLOATS, 1])  # 1: a band per input row
@pytest.mark.parametrize("relu", [True, False])
def test_upsample_conv_equals_upsample_pad_conv(
    size: tuple[int, int], band_floats: int, relu: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(winograd, "BAND_FLOATS", band_floats)
    g = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(6, 4, kernel_size=3)
    x = torch.randn(2, 6, *size, generator=g)
    plain = conv(F.pad(F.interpolate(x, scale_factor=2.0, mode="nearest"), (1, 1, 1, 1), mode="reflect"))
    with torch.inference_mode():
        fused = upsample_conv(x, conv, KernelMemory(), relu)
    assert torch.allclose(fused, plain.relu() if relu else plain, atol=1e-5)


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("band_floats", [winograd.BAND_FLOATS, 1])
def test_padded_conv_in_bands_equals_pad_conv(relu: bool, band_floats: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(winograd, "BAND_FLOATS", band_floats)
    g = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(5, 3, kernel_size=3)
    x = torch.randn(2, 5, 7, 4, generator=g)
    plain = conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))
    with torch.inference_mode():
        banded = padded_conv(x, conv, KernelMemory(), relu)
    assert banded.shape == plain.shape
    assert torch.allclose(banded, plain.relu() if relu else plain, atol=1e-5)


def test_run_layers_fuses_only_without_gradients_and_training_gets_the_plain_gradients() -> None:
    torch.manual_seed(0)
    layers = nn.Sequential(
        nn.Conv2d(3, 4, kernel_size=1), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(4, 2, kernel_size=3), nn.ReLU(),
    )  # fmt: skip
    x = torch.randn(1, 3, 5, 5)
    expected = layers(x)
    expected.square().sum().backward()
    plain_grads = [p.grad.clone() for p in layers.parameters()]  # type: ignore[union-attr]
    layers.zero_grad()
    memory = KernelMemory()
    with torch.inference_mode():  # fused: phase convolution, in-place ReLUs
        assert torch.allclose(run_layers(layers, x, memory), expected, atol=1e-6)
    trained = run_layers(layers, x, memory)  # gradients enabled: the layers as they are
    assert torch.equal(trained, expected)
    trained.square().sum().backward()
    for param, plain in zip(layers.parameters(), plain_grads, strict=True):
        assert param.grad is not None and torch.equal(param.grad, plain)


@pytest.mark.parametrize("tail", [[], [nn.Identity()]])  # Identity: the last map is a scratch map itself
def test_run_layers_returns_memory_of_its_own_though_intermediates_reuse_scratch(tail: list[nn.Module]) -> None:
    torch.manual_seed(0)
    block = [nn.ReflectionPad2d(1), nn.Conv2d(64, 64, kernel_size=3), nn.ReLU()]
    layers = nn.Sequential(*block, *copy.deepcopy(block), nn.MaxPool2d(2), *copy.deepcopy(block), *tail)
    first, second = torch.randn(1, 64, 12, 10), torch.randn(1, 64, 12, 10)
    memory = KernelMemory()
    with torch.inference_mode():
        expected = layers(first)
        got = run_layers(layers, first, memory)
        assert torch.allclose(got, expected, atol=1e-5)
        assert memory.buffer_count > 0
        assert torch.allclose(run_layers(layers, second, memory), layers(second), atol=1e-5)
        assert torch.allclose(got, expected, atol=1e-5)  # the second run did not write over the first's output


def test_layers_made_under_inference_mode_run_fused() -> None:
    torch.manual_seed(0)
    with torch.inference_mode():  # e.g. a model loaded inside inference mode: weights without versions
        layers = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(64, 64, kernel_size=3), nn.ReLU())
        x = torch.randn(1, 64, 8, 8)
        assert torch.allclose(run_layers(layers, x, KernelMemory()), layers(x), atol=1e-5)


def test_decoders_fused_and_banded_equal_forward() -> None:
    torch.manual_seed(0)
    decoder, video = Decoder().eval(), VideoDecoder().eval()
    features, skip = torch.randn(1, 512, 9, 6), torch.randn(1, 256, 18, 12)
    memory = KernelMemory()
    with torch.inference_mode():
        expected = decoder(features, skip)
        for band_pixels in (1 << 30, 64 * 6 * 2):
            assert torch.allclose(decoder.decode(features, skip, band_pixels, memory), expected, atol=1e-4)
            assert torch.allclose(decoder.decode(features, skip, band_pixels), expected, atol=1e-4)  # plain
        relu3 = torch.randn(1, 256, 13, 10)
        assert torch.allclose(video.decode(relu3, 16 * 10 * 3, memory), video(relu3), atol=1e-4)
        assert torch.allclose(video.decode(relu3, 16 * 10 * 3), video(relu3), atol=1e-4)
        last = list(video.decoder)[-2:]  # pad + 64 -> 3 conv: too narrow for Winograd, run in bands
        small = torch.randn(1, 64, 7, 5)
        assert torch.allclose(run_layers(last, small, memory), nn.Sequential(*last)(small), atol=1e-5)
