"""The memory the fast paths keep between calls, owned by one loaded model, and their banded padding.

`KernelMemory` holds the band-sized scratch buffers of the banded convolutions and the weights
derived from a model's own (Winograd-transformed filters, phase-convolution kernels). A network
owns one (`StyleNetwork.kernel_memory`): it goes when the model goes, and `release()` (called by
`stylize.device.release_cached_memory`) gives it back at once.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable

import torch
from torch import Tensor

# Scratch buffers larger than this (floats) are not kept: only very wide maps need them.
SCRATCH_KEEP_FLOATS = 8 << 20
# The same for whole maps (`KernelMemory.map`): a 64-channel map of 512 x 512 is kept, much larger ones not.
MAP_KEEP_FLOATS = 16 << 20

Shape4 = tuple[int, int, int, int]


class _ThreadBuffers:
    """One thread's named buffers (an object, so that the owner can refer to it weakly)."""

    __slots__ = ("__weakref__", "kept")

    def __init__(self) -> None:
        self.kept: dict[str, Tensor] = {}


class KernelMemory:
    """Scratch buffers (per thread) and derived weights of one model's fast paths.

    The band-sized temporaries of the banded convolutions come in the same few sizes for every
    band and layer; a fresh allocation of several MiB costs its page faults again each time (glibc
    hands freed memory of that size back to the system), which made a 512² AdaAttN image about a
    fifth slower. So they are kept, per name and per thread (two threads running the same model
    must not write into each other's buffers); a thread's buffers go when the thread ends.

    A derived weight is kept until its weight changes: a weight is told apart by identity, storage
    address, dtype, device, shape and version counter. Tensors made under inference mode have no
    version counter (and can be changed in place only under inference mode): after changing such
    a weight in place, call `release()`.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._threads: weakref.WeakSet[_ThreadBuffers] = weakref.WeakSet()
        self._derived: dict[tuple[int, str], tuple[weakref.ref[Tensor], tuple[object, ...], Tensor]] = {}

    # --- scratch buffers ----------------------------------------------------------------

    def buffer(self, name: str, numel: int, like: Tensor, keep_floats: int = SCRATCH_KEEP_FLOATS) -> Tensor:
        """`numel` uninitialised elements (flat) of `like`'s dtype and device, handed out again at
        this thread's next request for `name` when at most `keep_floats` long.

        A name's buffer must be done with before the name is asked for again.
        """
        kept = self._mine().kept
        buffer = kept.get(name)
        if buffer is None or not _fits(buffer, numel, like):
            buffer = torch.empty(numel, dtype=like.dtype, device=like.device)
            if numel <= keep_floats:
                kept[name] = buffer
        return buffer[:numel]

    def map(self, name: str, shape: Shape4, like: Tensor, keep_floats: int = MAP_KEEP_FLOATS) -> Tensor:
        """An uninitialised channels-last (N, C, H, W) map in the scratch buffer `name` (`buffer`)."""
        return channels_last(self.buffer(name, math.prod(shape), like, keep_floats), shape)

    def _mine(self) -> _ThreadBuffers:
        mine: _ThreadBuffers | None = getattr(self._local, "buffers", None)
        if mine is None:
            mine = self._local.buffers = _ThreadBuffers()
            with self._lock:
                self._threads.add(mine)
        return mine

    @property
    def buffer_count(self) -> int:
        """Scratch buffers kept, all threads together."""
        with self._lock:
            return sum(len(t.kept) for t in self._threads)

    @property
    def buffer_bytes(self) -> int:
        """Bytes of the scratch buffers kept, all threads together."""
        with self._lock:
            return sum(b.untyped_storage().nbytes() for t in self._threads for b in t.kept.values())

    # --- derived weights ----------------------------------------------------------------

    def derived(self, weight: Tensor, kind: str, derive: Callable[[Tensor], Tensor]) -> Tensor:
        """`derive(weight.detach())`, computed once per value of `weight` and kept here under `kind`."""
        stamp = (
            weight.data_ptr(),
            weight.dtype,
            weight.device,
            tuple(weight.shape),
            None if weight.is_inference() else weight._version,
        )
        key = (id(weight), kind)
        entry = self._derived.get(key)
        if entry is not None and entry[0]() is weight and entry[1] == stamp:
            return entry[2]
        value = derive(weight.detach())
        self._derived[key] = (weakref.ref(weight), stamp, value)
        return value

    @property
    def derived_count(self) -> int:
        return len(self._derived)

    # --- ownership ----------------------------------------------------------------------

    def release(self) -> None:
        """Drop every scratch buffer (all threads) and derived weight; they are made again when needed.

        Memory still in use by a running call stays until that call is done with it.
        """
        with self._lock:
            for thread in self._threads:
                thread.kept.clear()
        self._derived.clear()

    def __deepcopy__(self, memo: dict[int, object]) -> KernelMemory:
        return KernelMemory()  # a copied network computes its own; buffers are never shared

    def __reduce__(self) -> tuple[type[KernelMemory], tuple[()]]:
        return KernelMemory, ()


def _fits(buffer: Tensor, numel: int, like: Tensor) -> bool:
    # A buffer made under inference mode cannot be written outside it (e.g. a no-grad
    # evaluation after `Stylizer.stylize` in the same thread); the other way round is allowed.
    usable = not buffer.is_inference() or torch.is_inference_mode_enabled()
    return usable and buffer.numel() >= numel and buffer.dtype == like.dtype and buffer.device == like.device


def channels_last(flat: Tensor, shape: Shape4) -> Tensor:
    """`flat` viewed as a channels-last (N, C, H, W) tensor."""
    n, c, h, w = shape
    return flat.view(n, h, w, c).permute(0, 3, 1, 2)


def empty_map(shape: Shape4, like: Tensor) -> Tensor:
    """An uninitialised channels-last (N, C, H, W) map of `like`'s dtype and device, memory of its own."""
    return torch.empty(shape, dtype=like.dtype, device=like.device, memory_format=torch.channels_last)


def padded_rows(x: Tensor, start: int, stop: int, width: int, mode: str, out: Tensor | None = None) -> Tensor:
    """Rows [start, stop) of `F.pad(x, (1, 1, 1, 1), mode)` ("reflect" or "replicate"), channels-last,
    with zeros to the right up to `width` columns and below the padded last row; written into
    `out` (N, C, stop - start, width) when given.

    Built a band at a time so that no padded copy of a whole map is made: a large, freshly
    allocated buffer costs a page fault every 4 KiB, and a band is used while it is in the cache.
    """
    n, c, h, w = x.shape
    edge = 2 if mode == "reflect" else 1  # the padded column an outer column copies
    band = out if out is not None else empty_map((n, c, stop - start, width), x)
    # Padded row r holds x's row r - 1; the outer rows copy rows edge - 1 and h - edge.
    inner_start, inner_stop = max(start, 1), min(stop, h + 1)
    if inner_start < inner_stop:
        band[:, :, inner_start - start : inner_stop - start, 1 : w + 1] = x[:, :, inner_start - 1 : inner_stop - 1]
    if start == 0:
        band[:, :, 0, 1 : w + 1] = x[:, :, edge - 1]
    if start <= h + 1 < stop:
        band[:, :, h + 1 - start, 1 : w + 1] = x[:, :, h - edge]
    filled = max(0, min(stop, h + 2) - start)
    band[:, :, :filled, 0] = band[:, :, :filled, edge]
    band[:, :, :filled, w + 1] = band[:, :, :filled, w + 1 - edge]
    band[:, :, filled:].zero_()
    band[:, :, :filled, w + 2 :].zero_()
    return band
