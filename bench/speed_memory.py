"""Speed and peak memory: the official computation (reference path) against stylize's optimised path.

    python bench/speed_memory.py                 # everything (make bench); tens of minutes on 2 cores
    python bench/speed_memory.py --suite sizes reuse --sizes 512 1024
    python bench/speed_memory.py --suite reuse   # one style, 16 contents
    python bench/speed_memory.py --suite precision --precision bf16

Each measurement runs in its own process, so the peak resident memory (ru_maxrss) belongs to that
measurement alone, under an address-space cap so that a quadratic allocation fails cleanly
instead of swapping. A shared machine's speed wanders by tens of percent from minute to minute, so
the paths being compared run alternately, in three rounds up to 1024² (two for --suite reuse),
and each keeps its fastest; every child also records the machine's matrix-product rate. Weights
are the random-weight parity checkpoints (speed and memory do not depend on the values) unless
--weights is given. Results go to bench/results/speed_memory.json and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SIZES = {"512": (512, 512), "1024": (1024, 1024), "2048": (2048, 2048), "1080p": (1080, 1920), "4k": (2160, 3840)}
MODELS = ("adaattn", "stya2k", "adaattn-video")
OFFICIAL_MULTIPLE = {"adaattn": 16, "adaattn-video": 4}  # sides the released code runs without crashing
SUITES = ("sizes", "reuse", "precision")


# --- the measured work (runs in a child process) ------------------------------------------


def child(spec: dict) -> dict:
    """Run one measurement described by `spec`; return seconds, peak memory and notes."""
    cap = spec.get("memory_cap_gib")
    if cap and spec["device"] == "cpu":  # an address-space cap would break CUDA's own mappings
        limit = int(cap * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import torch

    import stylize
    from stylize.models.config import Compute
    from stylize.models.reference import reference_forward

    torch.set_grad_enabled(False)
    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    compute = Compute(policy=spec.get("policy", "official"))
    model = stylize.load_model(spec["model"], weights=spec["weights"], device=spec["device"],
                               precision=spec["precision"], compute=compute)  # fmt: skip
    device = model.device
    g = torch.Generator().manual_seed(0)
    h, w = spec["content"]
    sh, sw = spec["style"]
    contents = [torch.rand(1, 3, h, w, generator=g) for _ in range(spec.get("contents", 1))]
    style = torch.rand(1, 3, sh, sw, generator=g)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    if spec["path"] == "reference":
        net = model.network.to(memory_format=torch.contiguous_format)

        def run() -> torch.Tensor:
            out = None
            for content in contents:  # the official harness: every pair from scratch
                out = reference_forward(net, content.to(device), style.to(device), compute.seed)
            return out
    else:

        def run() -> torch.Tensor:
            out = None
            prepared = model.prepare_style(style)  # once per run, as a batch of contents would
            for content in contents:
                out = model.stylize(content, prepared)
            return out

    # First calls pay for kernel selection and allocation at each new shape; both paths are warmed up
    # at the measured shapes, except where one run is long enough for that not to matter.
    if h * w <= 1024 * 1024 or device.type == "cuda":
        saved, contents = contents, contents[:1]
        run()
        contents = saved
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    ceiling = matmul_rate(device) if device.type == "cpu" else None
    sync()
    start = time.perf_counter()
    out = run()
    sync()
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "seconds_per_image": seconds / len(contents),
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "output_shape": list(out.shape),
    }
    if ceiling is not None:
        result["matmul_gflops"] = ceiling
    if device.type == "cuda":
        result["peak_gpu_gib"] = torch.cuda.max_memory_allocated() / 2**30
    if spec.get("compare_fp32"):
        fp32 = stylize.load_model(spec["model"], weights=spec["weights"], device=spec["device"], compute=compute)
        exact = fp32.stylize(contents[-1], style).to(out.device)
        diff = (out.float() - exact).abs()
        result["relative_error_mean"] = float(diff.mean() / exact.std())
        result["relative_error_max"] = float(diff.max() / exact.std())
    return result


def matmul_rate(device) -> float:  # type: ignore[no-untyped-def]
    """GFLOP/s of an fp32 2048³ matrix product right now: how fast the (shared) machine runs at the time."""
    import torch

    a = torch.randn(2048, 2048, device=device)
    a @ a
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best / 1e9


# --- orchestration -------------------------------------------------------------------------


def run_child(spec: dict, timeout: int) -> dict:
    command = [sys.executable, __file__, "--child", json.dumps(spec)]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if "out of memory" in done.stderr.lower() or "MemoryError" in done.stderr or "allocate" in tail:
            return {"error": f"out of memory under the {spec.get('memory_cap_gib')} GiB cap ({tail[:120]})"}
        return {"error": tail[:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def merge_runs(runs: list[dict]) -> dict:
    """One row from repeated runs of a measurement: the fastest run, the largest peak, every time."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    fastest = min(runs, key=lambda r: r["seconds"])
    merged = {**fastest, "peak_rss_gib": max(r["peak_rss_gib"] for r in runs)}
    merged["seconds_all_runs"] = [r["seconds"] for r in runs]
    if "matmul_gflops" in fastest:
        merged["matmul_gflops_all_runs"] = [r["matmul_gflops"] for r in runs]
    return merged


def parity_weights() -> Path:
    sys.path.insert(0, str(ROOT))
    import hashlib

    from tests.conftest import PARITY

    script = PARITY / "make_checkpoints.py"
    folder = ROOT / ".cache" / f"parity-weights-{hashlib.sha256(script.read_bytes()).hexdigest()[:12]}"
    if not (folder / "stya2k" / "latest_net_decoder.pth").is_file():
        subprocess.run([sys.executable, str(script), str(folder)], check=True)
    return folder


def default_cap() -> float:
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return round(min(20.0, 0.85 * total), 1)


def size_cases(models: list[str], sizes: list[str]) -> list[dict]:
    cases = []
    for model in models:
        for name in sizes:
            content = SIZES[name]
            square = content[0] == content[1]
            for path in ("reference", "optimised"):
                if model == "stya2k":
                    # The released StyA2K runs only square contents with a same-size style.
                    if path == "reference" and not square:
                        cases.append({"model": model, "size": name, "path": path, "skip": "official code: square only"})
                        continue
                    style = content if square else (1024, 1024)
                else:
                    multiple = OFFICIAL_MULTIPLE[model]
                    if path == "reference" and (content[0] % multiple or content[1] % multiple):
                        cases.append({"model": model, "size": name, "path": path,
                                      "skip": f"official code: sides must be multiples of {multiple}"})  # fmt: skip
                        continue
                    # The memory targets name a 1024² style for the large contents; the video model's
                    # frames keep the papers' 512 (at 4K a 1024² style would mean 65 TFLOP a frame).
                    style = (512, 512) if square or model == "adaattn-video" else (1024, 1024)
                cases.append({"model": model, "size": name, "path": path, "content": content, "style": style})
    return cases


def describe_machine(device: str) -> dict:
    import torch

    info = {
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        flags = next(x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("flags"))
        info["amx"] = "amx_bf16" in flags
    except (OSError, StopIteration):
        pass
    if device == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--suite", nargs="+", choices=[*SUITES, "fps", "all"], default=["all"])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--sizes", nargs="+", default=["512", "1024", "2048", "1080p", "4k"], choices=list(SIZES))
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="bf16", help="half precision compared with fp32 (precision suite)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = PyTorch's default)")
    parser.add_argument("--memory-cap", type=float, default=None, help="GiB per measurement (default 85%% of RAM)")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--out", type=Path, default=RESULTS / "speed_memory.json")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    suites = set(SUITES) if "all" in args.suite else set(args.suite)
    weights = str(args.weights or parity_weights())
    cap = args.memory_cap or default_cap()
    base = {"weights": weights, "device": args.device, "precision": "fp32", "threads": args.threads,
            "memory_cap_gib": cap}  # fmt: skip
    report: dict = {"machine": describe_machine(args.device), "memory_cap_gib": cap, "rows": []}

    def measure(cases: list[dict], rounds: int = 1, **extra: object) -> None:
        """Measure `cases` alternately for `rounds` rounds; each row keeps its fastest run."""
        specs = [{**base, **case, **extra} for case in cases]
        runs: list[list[dict]] = [[] for _ in cases]
        for _ in range(rounds):
            for spec, done in zip(specs, runs, strict=True):
                if "skip" not in spec and not any("error" in r for r in done):
                    done.append(run_child(spec, args.timeout))
        for case, spec, done in zip(cases, specs, runs, strict=True):
            report_row(spec, merge_runs(done) if done else {"skipped": case["skip"]})

    def report_row(spec: dict, result: dict) -> None:
        label = " ".join(f"{k}={spec[k]}" for k in ("model", "size", "path", "precision") if k in spec)
        row = {**{k: v for k, v in spec.items() if k not in ("weights", "memory_cap_gib")}, **result}
        report["rows"].append(row)
        shown = (
            result.get("error")
            or result.get("skipped")
            or (
                f"{result['seconds_per_image']:.2f} s/image, peak {result['peak_rss_gib']:.2f} GiB RSS"
                + (f", {result['peak_gpu_gib']:.2f} GiB GPU" if "peak_gpu_gib" in result else "")
                + (f", rel. error mean {result['relative_error_mean']:.1e}" if "relative_error_mean" in result else "")
            )
        )
        print(f"{label:60s} {shown}", flush=True)

    if "sizes" in suites:
        cases = size_cases(args.models, args.sizes)
        for pair in zip(cases[::2], cases[1::2], strict=True):  # (reference, optimised) of one model and size
            small = SIZES[pair[0]["size"]][0] * SIZES[pair[0]["size"]][1] <= 1024 * 1024
            measure(list(pair), rounds=3 if small else 1, suite="sizes")
    if "reuse" in suites:
        measure([{"model": "adaattn", "size": "512", "path": path, "content": (512, 512), "style": (512, 512),
                  "contents": 16} for path in ("reference", "optimised")], rounds=2, suite="reuse")  # fmt: skip
    if "precision" in suites:
        for model in ("adaattn", "stya2k"):
            for precision, path in (("fp32", "reference"), ("fp32", "optimised"), (args.precision, "optimised")):
                measure([{"model": model, "size": "512", "path": path, "content": (512, 512), "style": (512, 512),
                          "precision": precision, "compare_fp32": precision != "fp32"}], suite="precision")  # fmt: skip

    if "fps" in suites:  # video throughput: one prepared style, a run of 1080p frames
        for model in args.models:
            for precision in ("fp32", "bf16", "fp16"):
                measure([{"model": model, "size": "1080p", "path": "optimised", "content": (1080, 1920),
                          "style": (512, 512), "contents": 8, "precision": precision}], suite="fps")  # fmt: skip

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(report))
    print(f"\nwrote {args.out} and {args.out.with_suffix('.md')}")


def markdown(report: dict) -> str:
    machine = ", ".join(f"{k} {v}" for k, v in report["machine"].items())
    lines = [f"Machine: {machine}; memory cap {report['memory_cap_gib']} GiB per measurement.", "",
             "| suite | model | content | style | path | precision | s/image | peak RSS GiB | note |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in report["rows"]:
        content = "x".join(map(str, r.get("content", [])[::-1])) or r["size"]
        style = "x".join(map(str, r.get("style", [])[::-1]))
        note = r.get("error") or r.get("skipped") or ""
        if "relative_error_mean" in r:
            note = f"vs fp32: mean {r['relative_error_mean']:.1e}, max {r['relative_error_max']:.1e} (x std)"
        if "peak_gpu_gib" in r:
            note = (note + f" GPU peak {r['peak_gpu_gib']:.2f} GiB").strip()
        secs = f"{r['seconds_per_image']:.3f}" if "seconds_per_image" in r else "-"
        if r.get("suite") == "fps" and "seconds_per_image" in r:
            note = f"{1 / r['seconds_per_image']:.1f} frames/s; " + note
        rss = f"{r['peak_rss_gib']:.2f}" if "peak_rss_gib" in r else "-"
        lines.append(f"| {r.get('suite', '')} | {r['model']} | {content} | {style} | {r['path']} | "
                     f"{r.get('precision', 'fp32')} | {secs} | {rss} | {note} |")  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
