"""The fast paths' memory (`KernelMemory`: scratch buffers, derived weights) and banded padding."""

from __future__ import annotations

import copy
import gc
import pickle
import threading
import weakref

import pytest
import torch
import torch.nn.functional as F

from stylize.models.kernels import scratch
from stylize.models.kernels.scratch import KernelMemory, channels_last, padded_rows

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


def test_buffers_are_handed_out_again_per_name_and_thread() -> None:
    memory, like = KernelMemory(), torch.zeros(1)
    first = memory.buffer("a", 100, like)
    assert memory.buffer("a", 60, like).data_ptr() == first.data_ptr()  # smaller: the same memory
    assert memory.buffer("b", 100, like).data_ptr() != first.data_ptr()
    grown = memory.buffer("a", 200, like)
    assert grown.numel() == 200 and memory.buffer("a", 200, like).data_ptr() == grown.data_ptr()
    assert memory.buffer("a", 50, like.double()).dtype == torch.float64
    huge = scratch.SCRATCH_KEEP_FLOATS + 1
    assert memory.buffer("c", huge, like).data_ptr() != memory.buffer("c", huge, like).data_ptr()  # not kept
    kept = memory.buffer("d", huge, like, keep_floats=huge)
    assert memory.buffer("d", huge, like, keep_floats=huge).data_ptr() == kept.data_ptr()

    other: list[int] = []
    thread = threading.Thread(target=lambda: other.append(memory.buffer("a", 100, like).data_ptr()))
    thread.start()
    thread.join()
    assert other[0] != memory.buffer("a", 100, like).data_ptr()


def test_a_buffer_made_in_inference_mode_is_replaced_outside_it() -> None:
    memory, like = KernelMemory(), torch.zeros(1)
    with torch.inference_mode():
        inside = memory.buffer("inference", 100, like)
        assert inside.is_inference()
    outside = memory.buffer("inference", 100, like)
    outside.fill_(1.0)  # an inference tensor would refuse this in-place write
    assert not outside.is_inference() and outside.data_ptr() != inside.data_ptr()
    with torch.inference_mode():  # a normal buffer serves inference mode too
        assert memory.buffer("inference", 100, like).data_ptr() == outside.data_ptr()


def test_a_named_map_is_channels_last_and_one_of_512_squared_is_kept() -> None:
    memory, like = KernelMemory(), torch.zeros(1)
    shape = (1, 64, 512, 512)  # MAP_KEEP_FLOATS: 64 MiB
    named = memory.map("map", shape, like)
    assert named.shape == shape and named.is_contiguous(memory_format=torch.channels_last)
    assert memory.map("map", shape, like).data_ptr() == named.data_ptr()
    assert memory.buffer_count == 1 and memory.buffer_bytes == 4 * 64 * 512 * 512


def test_channels_last_view_of_flat_memory() -> None:
    flat = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32)
    view = channels_last(flat, (2, 3, 4, 5))
    assert view.shape == (2, 3, 4, 5) and view.is_contiguous(memory_format=torch.channels_last)
    assert view.data_ptr() == flat.data_ptr() and view[1, 2, 3, 4] == flat[-1]


def test_release_drops_every_threads_buffers_and_the_derived_weights() -> None:
    memory, like = KernelMemory(), torch.zeros(1)
    memory.buffer("a", 1000, like)
    started, finish = threading.Event(), threading.Event()

    def hold() -> None:  # a thread that keeps its buffers while the owner releases them
        memory.buffer("a", 3000, like)
        started.set()
        finish.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait()
    memory.derived(torch.nn.Parameter(torch.ones(3)), "double", lambda w: 2 * w)
    assert memory.buffer_count == 2 and memory.buffer_bytes == 4 * 4000 and memory.derived_count == 1
    memory.release()
    assert memory.buffer_count == 0 and memory.buffer_bytes == 0 and memory.derived_count == 0
    finish.set()
    thread.join()


def test_a_threads_buffers_go_with_the_thread() -> None:
    memory = KernelMemory()
    thread = threading.Thread(target=lambda: memory.buffer("a", 1000, torch.zeros(1)))
    thread.start()
    thread.join()
    gc.collect()
    assert memory.buffer_count == 0


def test_the_buffers_go_with_their_owner() -> None:
    memory = KernelMemory()
    buffer = weakref.ref(memory.buffer("a", 1000, torch.zeros(1)).untyped_storage())
    del memory
    gc.collect()
    assert buffer() is None


def test_a_derived_weight_is_kept_until_the_weight_changes() -> None:
    memory = KernelMemory()
    weight = torch.nn.Parameter(torch.ones(3))
    calls: list[int] = []

    def derive(w: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return 2 * w

    first = memory.derived(weight, "double", derive)
    assert memory.derived(weight, "double", derive) is first and len(calls) == 1
    with torch.no_grad():
        weight.mul_(3)  # in place: the same storage, a new version
    assert torch.equal(memory.derived(weight, "double", derive), torch.full((3,), 6.0)) and len(calls) == 2
    weight.data = torch.zeros(3)  # new storage (e.g. `module.to(device)`)
    assert torch.equal(memory.derived(weight, "double", derive), torch.zeros(3)) and len(calls) == 3
    assert torch.equal(memory.derived(weight, "half", lambda w: w / 2), torch.zeros(3)) and memory.derived_count == 2


def test_a_derived_weight_of_an_inference_tensor_is_kept() -> None:
    memory = KernelMemory()
    with torch.inference_mode():  # a model loaded inside inference mode: weights without versions
        weight = torch.nn.Parameter(torch.ones(3), requires_grad=False)
    first = memory.derived(weight, "double", lambda w: 2 * w)
    assert memory.derived(weight, "double", lambda w: 3 * w) is first


def test_a_derived_weight_of_another_tensor_at_a_reused_address_is_made_again() -> None:
    memory = KernelMemory()
    memory.derived(torch.ones(4), "double", lambda w: 2 * w)  # the tensor is freed at once
    assert torch.equal(memory.derived(torch.full((4,), 5.0), "double", lambda w: 2 * w), torch.full((4,), 10.0))


def test_copies_and_pickles_start_empty() -> None:
    memory = KernelMemory()
    memory.buffer("a", 10, torch.zeros(1))
    for other in (copy.deepcopy(memory), pickle.loads(pickle.dumps(memory))):
        assert isinstance(other, KernelMemory) and other is not memory and other.buffer_count == 0
