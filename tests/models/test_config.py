"""Compute settings: the attention chunk budget per device, the out-of-memory halving, the kernels."""

from __future__ import annotations

import pytest

from stylize.models.config import MIN_BAND, MIN_CHUNK, Compute


def test_chunk_budget_defaults_per_device_and_obeys_an_explicit_value() -> None:
    assert Compute().chunk_budget("cpu") == 1 << 22
    assert Compute().chunk_budget("cuda") == 1 << 25
    assert Compute(chunk_elements=1000).chunk_budget("cpu") == 1000


def test_halving_starts_from_the_device_default_and_stops_at_the_smallest() -> None:
    compute = Compute(band_pixels=1 << 20)
    halved = compute.halved("cuda")
    assert (halved.chunk_elements, halved.band_pixels) == (1 << 24, 1 << 19)
    assert not compute.is_smallest and not halved.is_smallest
    while not compute.is_smallest:
        compute = compute.halved("cpu")
    assert (compute.chunk_elements, compute.band_pixels) == (MIN_CHUNK, MIN_BAND)


def test_kernels_are_fast_by_default_and_kept_when_halved() -> None:
    assert Compute().kernels == "fast"
    assert Compute(kernels="plain").halved("cpu").kernels == "plain"


@pytest.mark.parametrize(
    "settings", [{"chunk_elements": 0}, {"band_pixels": 0}, {"policy": "fast"}, {"kernels": "winograd"}]
)
def test_bad_settings_are_refused(settings: dict) -> None:
    with pytest.raises(ValueError):
        Compute(**settings)
