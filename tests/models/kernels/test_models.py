"""The fast paths inside the three models: the same values as the plain layers, memory owned by each model."""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import stylize
from stylize.device import release_cached_memory
from stylize.models.config import Compute
from stylize.stylizer import Stylizer
from tests.conftest import smooth_image

MODELS = ["adaattn", "stya2k", "adaattn_video"]
# Bands and chunks too, so that the plain layers are also run band by band.
BANDED = Compute(chunk_elements=1 << 14, band_pixels=1 << 13)


def with_kernels(model: Stylizer, kernels: str, compute: Compute = BANDED) -> Stylizer:
    return Stylizer(model.network, model.spec, model.device, model.precision, replace(compute, kernels=kernels))


def close(a: torch.Tensor, b: torch.Tensor, rel: float) -> bool:
    return bool((a - b).abs().max() <= rel * b.std() + 1e-6)


@pytest.mark.parametrize("compute", [BANDED, Compute()], ids=["banded", "whole"])
@pytest.mark.parametrize("model_name", MODELS)
def test_plain_layers_give_the_fast_paths_values(
    request: pytest.FixtureRequest, model_name: str, compute: Compute
) -> None:
    """Within the rounding Winograd's transforms add (as between bands and whole, `test_stylizer`)."""
    model: Stylizer = request.getfixturevalue(model_name)
    memory = model.network.kernel_memory
    content, style = smooth_image(192, 128), smooth_image(160, 200, seed=3)
    memory.release()
    plain = with_kernels(model, "plain", compute)(content, style)
    assert memory.buffer_count == 0 and memory.derived_count == 0  # no fast path ran
    fast = with_kernels(model, "fast", compute)(content, style)
    assert memory.buffer_count > 0 and memory.derived_count > 0
    assert close(fast, plain, 1e-3), (fast - plain).abs().max()


@pytest.mark.parametrize("model_name", MODELS)
def test_release_cached_memory_frees_the_models_buffers(request: pytest.FixtureRequest, model_name: str) -> None:
    model: Stylizer = request.getfixturevalue(model_name)
    memory = model.network.kernel_memory
    content, style = smooth_image(96, 128), smooth_image(64, 64, seed=1)
    first = model(content, style)
    assert memory.buffer_count > 0 and memory.buffer_bytes > 0
    release_cached_memory(model.device, memory)
    assert (memory.buffer_count, memory.buffer_bytes, memory.derived_count) == (0, 0, 0)
    assert torch.equal(model(content, style), first)  # made again, the same values


def test_a_dropped_model_takes_its_memory_with_it(parity_weights: Path) -> None:
    model = stylize.load_model("adaattn", weights=parity_weights, device="cpu")
    model(smooth_image(64, 64), smooth_image(64, 64, seed=1))
    memory = weakref.ref(model.network.kernel_memory)
    assert memory() is not None and memory().buffer_count > 0  # type: ignore[union-attr]
    del model
    gc.collect()
    assert memory() is None


def test_two_models_in_one_thread_keep_their_own_buffers(adaattn: Stylizer, stya2k: Stylizer) -> None:
    content, style = smooth_image(128, 96), smooth_image(80, 80, seed=2)
    adaattn.network.kernel_memory.release()
    stya2k.network.kernel_memory.release()
    alone = adaattn(content, style)
    assert stya2k.network.kernel_memory.buffer_count == 0  # nothing of the other model's
    other = stya2k(content, style)
    assert torch.equal(adaattn(content, style), alone)
    assert torch.equal(stya2k(content, style), other)
    assert adaattn.network.kernel_memory is not stya2k.network.kernel_memory
