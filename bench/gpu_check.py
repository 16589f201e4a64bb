"""GPU checks (run on a CUDA machine): parity of the six golden cases on CUDA in fp32, and the
out-of-memory path (a memory cap forces retries with smaller chunks, then a clear error).

    python bench/gpu_check.py [--out bench/results/gpu_check.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "gpu_check.json")
    args = parser.parse_args()
    import numpy as np
    import torch

    import stylize
    from bench.speed_memory import parity_weights
    from stylize.errors import OutOfMemory
    from tests.conftest import PARITY, parity_input
    from tests.test_parity import CASES

    weights = parity_weights()
    report: dict = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "parity": {}, "oom": {}}
    models = {}
    for case, fixture in CASES.items():
        name = {"adaattn": "adaattn", "stya2k": "stya2k", "adaattn_video": "adaattn-video"}[fixture]
        if name not in models:
            models[name] = stylize.load_model(name, weights=weights, device="cuda")
        data = np.load(PARITY / "golden" / f"{case}.npz")
        out = models[name](parity_input(str(data["content"])), parity_input(str(data["style"]))).cpu().numpy()
        diff, scale = np.abs(out - data["output"]), data["output"].std()
        report["parity"][case] = {"mean_rel": float(diff.mean() / scale), "max_rel": float(diff.max() / scale)}
        print(case, report["parity"][case], flush=True)

    # Out of memory: cap this process at a sliver of the card, then stylise a 4K frame.
    model = models["adaattn"]
    torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(0).total_memory
    for cap_gib in (3.0, 0.4):
        torch.cuda.set_per_process_memory_fraction(cap_gib * 2**30 / total)
        start = time.perf_counter()
        try:
            out = model(torch.rand(1, 3, 2160, 3840), torch.rand(1, 3, 1024, 1024))
            result = {"ok": True, "shape": list(out.shape), "seconds": time.perf_counter() - start}
        except OutOfMemory as exc:
            result = {"ok": False, "error": exc.message}
        report["oom"][f"cap {cap_gib} GiB"] = result
        print(f"cap {cap_gib} GiB:", result, flush=True)
        torch.cuda.empty_cache()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
