"""Choosing the device and the arithmetic precision, in one place."""

from __future__ import annotations

import contextlib
import logging
import re
from contextlib import AbstractContextManager
from typing import Protocol

import torch

from stylize.errors import SetupError

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str = "auto") -> torch.device:
    """ "auto" picks CUDA, then Apple MPS, then the CPU; an explicit device must exist."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise SetupError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name.startswith("cuda") and not cuda:
        raise SetupError("--device cuda: no CUDA GPU is available", hint="use --device cpu (or auto)")
    if name == "mps" and not mps:
        raise SetupError("--device mps: Apple's Metal backend is not available", hint="use --device cpu (or auto)")
    return torch.device(name)


def resolve_precision(precision: str, device: torch.device) -> str:
    """The precision to use on `device`: fp16 is a GPU format and falls back to bf16 on the CPU."""
    if precision not in PRECISIONS:
        raise SetupError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if device.type == "cpu" and precision == "fp16":
        log.warning("fp16 is not supported on the CPU; using bf16 instead")
        return "bf16"
    if device.type == "cpu" and precision == "bf16" and not cpu_has_fast_bf16():
        log.warning("this CPU has no bf16 matrix instructions (AMX or AVX512-BF16): bf16 will be slower than fp32")
    return precision


def cpu_has_fast_bf16() -> bool:
    """Whether PyTorch's CPU kernels use native bf16 instructions here."""
    capability = torch.backends.cpu.get_cpu_capability()
    return capability.startswith("AVX512") and _cpu_flags() & {"amx_bf16", "avx512_bf16"} != set()


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def autocast(device: torch.device, precision: str) -> AbstractContextManager[object]:
    """Mixed precision for `precision` on `device`; fp32 runs as is (the exact mode).

    In fp32 on CUDA, cuDNN's TF32 convolutions (on by default) are turned off, or fp32 would not
    be exact.
    """
    if precision == "fp32":
        if device.type == "cuda":
            return torch.backends.cudnn.flags(enabled=True, allow_tf32=False)
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=DTYPES[precision])


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception is a device running out of memory (CUDA or MPS)."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


class Releasable(Protocol):
    def release(self) -> None: ...


def release_cached_memory(device: torch.device, *kept: Releasable) -> None:
    """Give back memory held for reuse: what `kept` hold (e.g. a network's `kernel_memory`: the
    fast paths' scratch buffers and derived weights) and, on CUDA, PyTorch's cached blocks."""
    for holder in kept:
        holder.release()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def memory_at_failure(device: torch.device, exc: BaseException) -> tuple[int, int] | None:
    """(bytes held at the peak before an out-of-memory error, bytes the failed allocation asked
    for), on CUDA; None where PyTorch does not report them."""
    if device.type != "cuda":
        return None
    match = re.search(r"Tried to allocate ([\d.]+) (GiB|MiB|KiB|B)", str(exc))
    if match is None:
        return None
    unit = {"GiB": 2**30, "MiB": 2**20, "KiB": 2**10, "B": 1}[match.group(2)]
    return int(torch.cuda.max_memory_allocated(device)), int(float(match.group(1)) * unit)
