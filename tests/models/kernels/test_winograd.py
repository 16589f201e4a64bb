"""Winograd F(4x4, 3x3) convolutions give the direct convolution's values, and run only where they should."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylize.models.kernels import winograd
from stylize.models.kernels.fused import merge_deep, run_layers, winograd_conv
from stylize.models.kernels.scratch import KernelMemory


def direct(x: Tensor, conv: nn.Conv2d, relu: bool) -> Tensor:
    """The released layers, in float64: reflection pad, 3x3 conv, ReLU."""
    out = F.conv2d(
        F.pad(x.double(), (1, 1, 1, 1), mode="reflect"), conv.weight.detach().double(), conv.bias.detach().double()
    )
    return out.relu() if relu else out


def relative_error(actual: Tensor, expected: Tensor) -> float:
    return float((actual.double() - expected).abs().max() / expected.std())


@pytest.mark.parametrize(
    ("channels", "size", "batch"),
    [((64, 64), (16, 16), 1), ((128, 64), (13, 22), 2), ((64, 96), (2, 2), 1), ((72, 64), (5, 41), 1)],
)
@pytest.mark.parametrize("relu", [True, False])
def test_equals_the_direct_convolution(
    channels: tuple[int, int], size: tuple[int, int], batch: int, relu: bool
) -> None:
    g = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(*channels, kernel_size=3)
    x = torch.randn(batch, channels[0], *size, generator=g)
    with torch.inference_mode():
        out = winograd_conv(x, conv, KernelMemory(), relu)
    assert out.shape == (batch, channels[1], *size)
    assert out.is_contiguous(memory_format=torch.channels_last) or size[1] % 4 != 0
    # The transforms' constants cost some precision: a few 1e-5 of the spread, as measured.
    assert relative_error(out, direct(x, conv, relu)) < 3e-4


def test_bands_of_tile_rows_give_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    g = torch.Generator().manual_seed(1)
    conv = nn.Conv2d(64, 64, kernel_size=3)
    x = torch.randn(1, 64, 37, 9, generator=g).contiguous(memory_format=torch.channels_last)
    monkeypatch.setattr(winograd, "BAND_FLOATS", 1)  # one tile row per band
    with torch.inference_mode():
        banded = winograd_conv(x, conv, KernelMemory(), True)
    assert relative_error(banded, direct(x, conv, True)) < 3e-4


def test_bias_free_convolution() -> None:
    conv = nn.Conv2d(64, 64, kernel_size=3, bias=False)
    x = torch.randn(1, 64, 8, 8)
    with torch.inference_mode():
        weight = winograd.filter_transform(conv.weight)
        expected = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), conv.weight).double()
        assert relative_error(winograd.reflect_conv(x, weight, None, False, KernelMemory()), expected) < 3e-4


def test_applies_only_to_wide_fp32_inference_on_the_cpu() -> None:
    wide, narrow = nn.Conv2d(64, 128, kernel_size=3), nn.Conv2d(3, 64, kernel_size=3)
    x = torch.randn(1, 64, 8, 8)
    with torch.inference_mode():
        assert winograd.applies(wide, x)
        assert not winograd.applies(narrow, torch.randn(1, 3, 8, 8))
        assert not winograd.applies(nn.Conv2d(64, 128, kernel_size=3, padding=1), x)
        assert not winograd.applies(wide, x.double())
        assert not winograd.applies(wide, torch.randn(1, 64, 1, 8))  # reflection needs two rows
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert not winograd.applies(wide, x)
    assert not winograd.applies(wide, x)  # gradients wanted: the cached transform would hide them


def test_run_layers_takes_pad_conv_relu_triples_and_keeps_the_filter_transform_until_the_weight_changes() -> None:
    torch.manual_seed(0)
    layers = nn.Sequential(
        nn.ReflectionPad2d(1), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.ReflectionPad2d(1), nn.Conv2d(64, 64, 3)
    )
    x = torch.randn(1, 64, 10, 12)
    memory = KernelMemory()
    transform = lambda: memory.derived(layers[1].weight, "winograd", winograd.filter_transform)  # noqa: E731
    with torch.inference_mode():
        out = run_layers(layers, x, memory)
        expected = direct(direct(x, layers[1], True), layers[4], False)
        assert relative_error(out, expected) < 3e-4
        assert memory.derived_count == 2
        cached = transform()
        assert run_layers(layers, x, memory) is not None and transform() is cached
    with torch.no_grad():
        layers[1].weight.mul_(2)  # a changed weight is transformed again
    with torch.inference_mode():
        doubled = run_layers(layers, x, memory)
        assert transform() is not cached
        assert relative_error(doubled, direct(direct(x, layers[1], True), layers[4], False)) < 3e-4


def test_fused_merge_equals_the_released_merge() -> None:
    torch.manual_seed(0)
    pad, conv = nn.ReflectionPad2d(1), nn.Conv2d(128, 128, 3)
    relu4, relu5 = torch.randn(1, 128, 12, 10), torch.randn(1, 128, 6, 5)
    with torch.inference_mode():
        released = merge_deep(relu4, relu5, pad, conv)
        fused = merge_deep(relu4, relu5, pad, conv, KernelMemory())
    assert float((fused - released).abs().max() / released.std()) < 3e-4
