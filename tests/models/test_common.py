"""The shared pieces of `stylize.models.common` (statistics, attention arithmetic)."""

from __future__ import annotations

import pytest
import torch

from stylize.models import common
from stylize.models.common import EPS, mean_std, scores, softmax_


@pytest.mark.parametrize("band_floats", [common.STATISTICS_BAND_FLOATS, 1])  # 1: a band per row
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_mean_std_is_the_unbiased_statistic_of_each_map(
    layout: torch.memory_format, band_floats: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "STATISTICS_BAND_FLOATS", band_floats)
    generator = torch.Generator().manual_seed(0)
    feat = (torch.randn(2, 5, 7, 9, generator=generator) * 3.0 + 40.0).contiguous(memory_format=layout)
    mean, std = mean_std(feat)
    flat = feat.double().flatten(2)
    assert mean.shape == std.shape == (2, 5, 1, 1)
    torch.testing.assert_close(mean.flatten(1).double(), flat.mean(2), rtol=1e-6, atol=0)
    torch.testing.assert_close(std.flatten(1).double(), (flat.var(2, unbiased=True) + EPS).sqrt(), rtol=1e-5, atol=0)
    feat.requires_grad_(True)
    mean_std(feat)[1].sum().backward()  # training's style loss differentiates through it
    assert feat.grad is not None and torch.isfinite(feat.grad).all()


def test_softmax_matches_torch_on_widely_spread_scores() -> None:
    # Unscaled attention scores spread over hundreds: most weights fall far below fp32's normal range.
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, 64, 512, generator=generator) * 150.0
    expected = torch.softmax(x, dim=-1)
    got = softmax_(x.clone())
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-12)
    assert torch.allclose(got.sum(dim=-1), torch.ones(3, 64), atol=1e-6)


def test_scores_add_a_per_key_bias_in_float32() -> None:
    generator = torch.Generator().manual_seed(1)
    a, b = torch.randn(2, 5, 7, generator=generator), torch.randn(2, 7, 9, generator=generator)
    bias = torch.randn(2, 1, 9, generator=generator)
    got = scores(a, b, bias)
    assert got.dtype == torch.float32
    assert torch.allclose(got, a @ b + bias, atol=1e-6)
    half = scores(a.half(), b.half(), bias.half())
    assert half.dtype == torch.float32
    assert torch.allclose(half, a.half().float() @ b.half().float() + bias.half().float(), atol=1e-3)
