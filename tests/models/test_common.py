"""The shared pieces of `stylize.models.common` (attention arithmetic, banded padding, scratch memory)."""

from __future__ import annotations

import threading

import pytest
import torch
import torch.nn.functional as F

from stylize.models import common
from stylize.models.common import EPS, channels_last, mean_std, new_map, padded_rows, scores, scratch, softmax_


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


SIZES = [(2, 2), (3, 5), (13, 22)]


@pytest.mark.parametrize(
    ("mode", "size"), [("reflect", s) for s in SIZES] + [("replicate", s) for s in [*SIZES, (1, 4), (1, 1)]]
)
def test_padded_rows_are_rows_of_the_padded_map_with_zeros_beyond(mode: str, size: tuple[int, int]) -> None:
    h, w = size
    x = torch.randn(2, 3, h, w)
    tall, wide = -(-h // 4) * 4 + 2, -(-w // 4) * 4 + 2  # whole Winograd tiles and their border
    expected = F.pad(F.pad(x, (1, 1, 1, 1), mode=mode), (0, wide - w - 2, 0, tall - h - 2))
    for start in range(tall):
        for stop in range(start + 1, tall + 1):
            band = padded_rows(x, start, stop, wide, mode)
            assert band.is_contiguous(memory_format=torch.channels_last)
            assert torch.equal(band, expected[:, :, start:stop]), (start, stop)


def test_scratch_hands_out_the_same_memory_per_name_and_thread() -> None:
    like = torch.zeros(1)
    first = scratch("test.a", 100, like)
    assert scratch("test.a", 60, like).data_ptr() == first.data_ptr()  # smaller: the same memory
    assert scratch("test.b", 100, like).data_ptr() != first.data_ptr()
    grown = scratch("test.a", 200, like)
    assert grown.numel() == 200 and scratch("test.a", 200, like).data_ptr() == grown.data_ptr()
    assert scratch("test.a", 50, like.double()).dtype == torch.float64
    huge = common.SCRATCH_KEEP_FLOATS + 1
    assert scratch("test.c", huge, like).data_ptr() != scratch("test.c", huge, like).data_ptr()  # not kept
    kept = scratch("test.d", huge, like, keep_floats=huge)
    assert scratch("test.d", huge, like, keep_floats=huge).data_ptr() == kept.data_ptr()

    other: list[int] = []
    thread = threading.Thread(target=lambda: other.append(scratch("test.a", 100, like).data_ptr()))
    thread.start()
    thread.join()
    assert other[0] != scratch("test.a", 100, like).data_ptr()


def test_scratch_made_in_inference_mode_is_replaced_outside_it() -> None:
    like = torch.zeros(1)
    with torch.inference_mode():
        inside = scratch("test.inference", 100, like)
        assert inside.is_inference()
    outside = scratch("test.inference", 100, like)
    outside.fill_(1.0)  # an inference tensor would refuse this in-place write
    assert not outside.is_inference() and outside.data_ptr() != inside.data_ptr()
    with torch.inference_mode():  # a normal buffer serves inference mode too
        assert scratch("test.inference", 100, like).data_ptr() == outside.data_ptr()


def test_new_map_is_channels_last_and_a_named_map_of_512_squared_is_kept() -> None:
    like = torch.zeros(1)
    shape = (1, 64, 512, 512)  # MAP_KEEP_FLOATS: 64 MiB
    named = new_map(shape, like, "test.map")
    assert named.shape == shape and named.is_contiguous(memory_format=torch.channels_last)
    assert new_map(shape, like, "test.map").data_ptr() == named.data_ptr()
    assert new_map(shape, like).data_ptr() != named.data_ptr()


def test_channels_last_view_of_flat_memory() -> None:
    flat = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32)
    view = channels_last(flat, (2, 3, 4, 5))
    assert view.shape == (2, 3, 4, 5) and view.is_contiguous(memory_format=torch.channels_last)
    assert view.data_ptr() == flat.data_ptr() and view[1, 2, 3, 4] == flat[-1]
