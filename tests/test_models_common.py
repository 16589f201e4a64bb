"""The shared attention arithmetic of `stylize.models.common` against plain PyTorch."""

from __future__ import annotations

import torch

from stylize.models.common import scores, softmax_


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
