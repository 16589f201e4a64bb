"""How --engine ray scales on this machine, and the driver's own ceiling.

    python bench/scale.py                      # 512x512 AdaAttN, a few minutes on 2 cores
    python bench/scale.py --images 4 --echo-images 100

Measured, each after a warm-up run on the same engine (so Ray's start and the model's shipping
are reported apart, as `start_s`):
  * images/s with the local engine (one thread for the model, --jobs 2 I/O threads), and with Ray
    at 1 worker and at 2 workers (one core, one thread each), and Ray's overhead per image at 1
    worker against the local engine (the two run alternately, in rounds, each keeping its fastest);
  * for reference, the local engine with the model on all the cores;
  * the driver's ceiling: outputs/s when the workers send each input straight back (no decoding,
    model or encoding), so what is left is the driver reading each file, shipping it through the
    object store, receiving the bytes and writing the output atomically.

Ray runs inside a network namespace of its own (loopback only; the script re-runs itself under
`unshare --net`, which needs root), with usage statistics off. Weights are the random-weight parity
checkpoints (speed does not depend on the values). A shared machine's speed wanders: the load
average before and after is recorded. Results: bench/results/scale.json and scale.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSIDE = "STYLIZE_BENCH_NETNS"


def reexec_in_namespace() -> None:
    """Run this script again in a fresh network namespace (loopback up), with Ray's statistics off."""
    env = {**os.environ, INSIDE: "1", "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', sys.executable, *sys.argv]
    sys.exit(subprocess.run(command, env=env).returncode)


def machine_load() -> dict[str, object]:
    top = subprocess.run(["top", "-bn1"], capture_output=True, text=True).stdout.splitlines()
    busy = [line for line in top[7:12] if line.strip()]
    return {"loadavg": os.getloadavg(), "top": top[:3] + busy}


def make_inputs(folder: Path, count: int, size: int) -> list[Path]:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        coarse = rng.random((size // 16, size // 16, 3))
        image = Image.fromarray((coarse * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
        path = folder / f"{i:04d}.png"
        image.save(path)
        paths.append(path)
    return paths


def timed_run(engine, stylizer, inputs: list[Path], style: Path, tensors, choice, out: Path) -> float:
    from stylize.pipeline import plan as planning

    jobs = planning.plan([str(p) for p in inputs], [style], out).jobs
    statuses = []
    start = time.perf_counter()
    engine.run_jobs(stylizer, jobs, tensors, choice, lambda outcome: statuses.append(outcome.status))
    seconds = time.perf_counter() - start
    assert statuses == ["done"] * len(jobs), statuses
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--images", type=int, default=6, help="timed images per configuration")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of local and Ray at one worker")
    parser.add_argument("--echo-images", type=int, default=200, help="files for the driver's ceiling")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    args = parser.parse_args()
    if not os.environ.get(INSIDE):
        reexec_in_namespace()

    import logging

    import ray
    import torch
    from speed_memory import parity_weights

    import stylize
    from stylize.pipeline.engines import open_engine
    from stylize.pipeline.engines.local import LocalEngine
    from stylize.pipeline.engines.ray_engine import RayEngine, StyleWorker
    from stylize.pipeline.image_runner import DONE, Outcome
    from stylize.pipeline.pictures import read_style_files
    from stylize.pipeline.settings import EngineChoice, ModelChoice, StyleChoice

    class EchoWorker(StyleWorker):
        """No model: each input's bytes go straight back as its output."""

        def __init__(self, threads):  # noqa: ANN001
            pass

        def images(self, model, data, jobs, styles, choice, quality, max_pixels):  # noqa: ANN001
            return [(Outcome(job, DONE, 0.0), data) for job in jobs]

    cores = os.cpu_count() or 1
    weights = str(parity_weights())
    load_before = machine_load()
    scratch = Path(tempfile.mkdtemp(prefix="stylize-scale-"))
    try:
        inputs = make_inputs(scratch / "in", args.images + 1, args.size)
        style = make_inputs(scratch / "style", 1, args.size)[0]
        choice = StyleChoice((str(style),), style_size=512)
        tensors = read_style_files([style], 512)
        model = ModelChoice("adaattn", weights, device="cpu")
        stylizer = stylize.load_model("adaattn", weights=weights, device="cpu")
        rows: dict[str, dict[str, float]] = {}

        # One thread per model everywhere (the local engine, each actor): on a shared machine two
        # threads of one model wait on each other whenever another job holds a core, which would
        # swamp the difference being measured. The paths being compared run alternately, in rounds,
        # and each keeps its fastest.
        torch.set_num_threads(1)
        started = time.perf_counter()
        ray.init(include_dashboard=False, num_cpus=cores, logging_level=logging.ERROR, log_to_driver=False)
        rows["ray_init"] = {"seconds": time.perf_counter() - started}
        local = LocalEngine()
        timed_run(local, stylizer, inputs[:1], style, tensors, choice, scratch / "warm-local")
        with open_engine(EngineChoice("ray", workers=1), model) as engine:
            began = time.perf_counter()
            timed_run(engine, stylizer, inputs[:1], style, tensors, choice, scratch / "warm-1")
            start_1 = time.perf_counter() - began
            runs: dict[str, list[float]] = {"local": [], "ray_1": []}
            for round_ in range(args.rounds):
                for name, runner in (("local", local), ("ray_1", engine)):
                    out = scratch / f"{name}-{round_}"
                    runs[name].append(timed_run(runner, stylizer, inputs[1:], style, tensors, choice, out))
                    print(name, round_, runs[name][-1], flush=True)
        for name, times in runs.items():
            best = min(times)
            rows[name] = {"images_per_s": args.images / best, "s_per_image": best / args.images,
                          "runs_s": times}  # fmt: skip
        rows["ray_1"]["start_s"] = start_1
        with open_engine(EngineChoice("ray", workers=2), model) as engine:
            began = time.perf_counter()
            timed_run(engine, stylizer, inputs[:2], style, tensors, choice, scratch / "warm-2")
            start_2 = time.perf_counter() - began
            seconds = timed_run(engine, stylizer, inputs[1:], style, tensors, choice, scratch / "ray-2")
        rows["ray_2"] = {"images_per_s": args.images / seconds, "s_per_image": seconds / args.images,
                         "start_s": start_2}  # fmt: skip
        print("ray 2", rows["ray_2"], flush=True)
        local_s, ray_s = rows["local"]["s_per_image"], rows["ray_1"]["s_per_image"]
        rows["ray_1"]["overhead_s_per_image"] = ray_s - local_s
        rows["ray_1"]["overhead_share"] = (ray_s - local_s) / local_s

        torch.set_num_threads(cores)
        count = max(1, args.images // 2)
        seconds = timed_run(local, stylizer, inputs[1 : 1 + count], style, tensors, choice, scratch / "local-all")
        rows["local_all_cores"] = {"images_per_s": count / seconds, "s_per_image": seconds / count}
        print("local, all cores", rows["local_all_cores"], flush=True)

        echo_inputs = make_inputs(scratch / "echo", args.echo_images, args.size)
        megabytes = sum(p.stat().st_size for p in echo_inputs) / 1e6
        with RayEngine(EngineChoice("ray", workers=2), model, worker=EchoWorker) as engine:
            timed_run(engine, stylizer, echo_inputs[:4], style, tensors, choice, scratch / "warm-echo")
            seconds = timed_run(engine, stylizer, echo_inputs, style, tensors, choice, scratch / "echo-out")
        rows["driver_ceiling"] = {"outputs_per_s": args.echo_images / seconds, "mb_per_s": 2 * megabytes / seconds,
                                  "mean_file_mb": megabytes / args.echo_images}  # fmt: skip
        print("driver ceiling", rows["driver_ceiling"], flush=True)
        ray.shutdown()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    result = {
        "size": args.size, "images": args.images, "echo_images": args.echo_images, "cores": cores,
        "machine": platform.processor() or platform.machine(), "ray": ray.__version__, "torch": torch.__version__,
        "load_before": load_before, "load_after": machine_load(), "rows": rows,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


def markdown(result: dict) -> str:
    rows = result["rows"]
    lines = [
        f"# --engine ray on this machine: {result['size']}x{result['size']} AdaAttN, {result['cores']} cores",
        "",
        "Written by `python bench/scale.py`; Ray in a network namespace of its own (loopback only).",
        f"Load average before: {', '.join(f'{x:.2f}' for x in result['load_before']['loadavg'])}; "
        f"after: {', '.join(f'{x:.2f}' for x in result['load_after']['loadavg'])} (a niced background job may share "
        "the cores).",
        "",
        "Every model computes on one thread (on a shared machine, two threads of one model wait on each other "
        "whenever another job holds a core).",
        "",
        "| engine | images/s | s/image | start (s) |",
        "|---|---|---|---|",
        f"| local | {rows['local']['images_per_s']:.3f} | {rows['local']['s_per_image']:.2f} | |",
    ]
    for workers in (1, 2):
        row = rows[f"ray_{workers}"]
        what = "1 worker" if workers == 1 else f"{workers} workers"
        lines.append(f"| ray, {what} | {row['images_per_s']:.3f} | {row['s_per_image']:.2f} | {row['start_s']:.1f} |")
    every = rows["local_all_cores"]
    lines.append(f"| local, the model on all {result['cores']} cores | {every['images_per_s']:.3f} | "
                 f"{every['s_per_image']:.2f} | |")  # fmt: skip
    one = rows["ray_1"]
    ceiling = rows["driver_ceiling"]
    lines += [
        "",
        f"Ray's overhead at one worker: {one['overhead_s_per_image'] * 1000:+.0f} ms per image "
        f"({one['overhead_share'] * 100:+.1f} % of the local engine's time). Starting Ray: "
        f"{rows['ray_init']['seconds']:.1f} s; the first run on an engine also starts the actors and ships the model "
        "(the start column).",
        "",
        f"Driver ceiling (workers echo each input's bytes back): {ceiling['outputs_per_s']:.0f} outputs/s, "
        f"{ceiling['mb_per_s']:.0f} MB/s read and written, files of {ceiling['mean_file_mb']:.2f} MB.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
