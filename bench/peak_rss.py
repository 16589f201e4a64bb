"""Peak resident memory of one optimised-path image, and in which step it is reached.

    python bench/peak_rss.py                           # AdaAttN, 3840x2160 content, 1024² style, fp32
    python bench/peak_rss.py --root ../old-checkout    # another checkout's stylize (a git worktree)
    MALLOC_MMAP_THRESHOLD_=1048576 python bench/peak_rss.py   # glibc: every block of 1 MiB or more mapped

Run one measurement per process: ru_maxrss is the whole process's peak. A thread samples the
resident set (/proc/self/statm) and glibc's own count of the bytes it has handed out and not taken
back (mallinfo2: heap blocks in use plus mapped blocks) every few milliseconds, labelled with the
network step running (encode, remember_style, attend, decode). Resident memory above the bytes in
use is memory the allocator holds: freed heap blocks it cannot give back to the system. Weights are
the random-weight parity checkpoints (memory does not depend on the values).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"512": (512, 512), "1080p": (1080, 1920), "4k": (2160, 3840)}


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _mallinfo():  # type: ignore[no-untyped-def]
    """A function giving (bytes in use, heap bytes held) from glibc, or None elsewhere."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        call = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    call.restype = _MallInfo2

    def read() -> tuple[int, int]:
        info = call()
        return info.uordblks + info.hblkhd, info.arena

    return read


class Sampler(threading.Thread):
    """Samples resident and in-use bytes until stopped, keeping the peak of each and its step."""

    def __init__(self, period: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.period, self.step, self.done = period, "load", threading.Event()
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.mallinfo = _mallinfo()
        self.peak_rss, self.peak_rss_step = 0, ""
        self.peak_used, self.peak_used_step, self.heap_at_peak_rss = 0, "", 0

    def run(self) -> None:
        with open("/proc/self/statm", "rb") as statm:
            while not self.done.is_set():
                statm.seek(0)
                rss = int(statm.read().split()[1]) * self.page
                step = self.step
                used, heap = self.mallinfo() if self.mallinfo else (0, 0)
                if rss > self.peak_rss:
                    self.peak_rss, self.peak_rss_step, self.heap_at_peak_rss = rss, step, heap
                if used > self.peak_used:
                    self.peak_used, self.peak_used_step = used, step
                time.sleep(self.period)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose stylize is measured")
    parser.add_argument("--model", default="adaattn")
    parser.add_argument("--size", default="4k", choices=list(SIZES))
    parser.add_argument("--style", type=int, default=1024, help="side of the square style")
    parser.add_argument("--compute", default="{}", help='Compute(...) keywords as JSON, e.g. \'{"kernels": "plain"}\'')
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(args.root.resolve()))
    import torch
    from speed_memory import parity_weights

    import stylize
    from stylize.models.config import Compute

    torch.set_grad_enabled(False)
    sampler = Sampler()
    sampler.start()
    model = stylize.load_model(
        args.model, weights=parity_weights(), device="cpu", compute=Compute(**json.loads(args.compute))
    )
    net = model.network
    for name in ("encode", "remember_style", "attend", "decode"):
        method = getattr(net, name)

        def labelled(*a, _method=method, _name=name, **k):  # type: ignore[no-untyped-def]
            before, sampler.step = sampler.step, _name
            try:
                return _method(*a, **k)
            finally:
                sampler.step = before

        setattr(net, name, labelled)
    g = torch.Generator().manual_seed(0)
    h, w = SIZES[args.size]
    content, style = torch.rand(1, 3, h, w, generator=g), torch.rand(1, 3, args.style, args.style, generator=g)
    start = time.perf_counter()
    model.stylize(content, model.prepare_style(style))
    seconds = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    gib = 2**30
    result = {
        "root": str(args.root.resolve()),
        "model": args.model,
        "content": f"{w}x{h}",
        "style": f"{args.style}x{args.style}",
        "compute": json.loads(args.compute),
        "malloc_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_"),
        "seconds": round(seconds, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3),
        "sampled_peak_rss_gib": round(sampler.peak_rss / gib, 3),
        "sampled_peak_rss_step": sampler.peak_rss_step,
        "heap_held_at_peak_rss_gib": round(sampler.heap_at_peak_rss / gib, 3),
        "peak_in_use_gib": round(sampler.peak_used / gib, 3),
        "peak_in_use_step": sampler.peak_used_step,
    }
    memory = getattr(net, "kernel_memory", None)  # checkouts from before the fast paths' owner have none
    if memory is not None:
        result["kept_scratch_gib"] = round(memory.buffer_bytes / gib, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
