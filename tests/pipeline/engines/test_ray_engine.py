"""--engine ray on a real local Ray (in a network namespace): the same files as the local engine,
--skip-existing, a killed worker, loopback only. One Ray serves the whole module."""

from __future__ import annotations

import json
import os
import re
import signal
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from stylize.pipeline.engines import open_engine
from stylize.pipeline.settings import EngineChoice, ModelChoice, StyleChoice
from tests.clips import make_clip, read_clip
from tests.clitools import invoke, leftovers
from tests.imagefiles import folder_bytes, rgb, style_folder
from tests.pipeline.engines.raytools import listening_addresses, reaped, start_ray_isolated, worker_pids


@pytest.fixture(scope="module")
def ray_cluster():
    yield from start_ray_isolated(num_cpus=2)


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each Ray actor with one CPU computes
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    rgb(folder / "a.png", 64, 48, seed=1)
    rgb(folder / "b.jpg", 48, 64, seed=2, quality=90)
    rgb(folder / "sub" / "c.png", 56, 40, seed=3)
    return folder


@pytest.fixture
def styles(tmp_path: Path) -> Path:
    return style_folder(tmp_path / "styles")


def fast(parity_weights: Path) -> list[str]:
    return ["--weights", str(parity_weights), "--style-size", "32", "--device", "cpu"]


def test_ray_listens_on_loopback_only(ray_cluster) -> None:
    pid = ray_cluster.get(ray_cluster.remote(lambda: os.getpid()).remote())
    addresses = listening_addresses(pid)
    assert len(addresses) >= 3  # the GCS, the raylet, the object manager at least
    assert set(addresses) <= {"127.0.0.1", "::1"}, addresses


def test_batch_files_are_byte_identical_to_the_local_engine(
    ray_cluster, photos: Path, styles: Path, tmp_path: Path, parity_weights: Path
) -> None:
    rgb(photos / "0-large.png", 320, 240, seed=5)  # first in the plan, last to finish on Ray
    args = ["batch", photos, "-s", styles, "-r", "--json", *fast(parity_weights)]
    local = invoke([*args, "-o", tmp_path / "local"])
    assert local.exit_code == 0, local.stderr
    ray = invoke([*args, "-o", tmp_path / "ray", "--engine", "ray", "--workers", "2"])
    assert ray.exit_code == 0, ray.stderr
    expected = folder_bytes(tmp_path / "local")
    assert len(expected) == 8 and folder_bytes(tmp_path / "ray") == expected
    records = [json.loads(line) for line in ray.stdout.splitlines()]
    local_records = [json.loads(line) for line in local.stdout.splitlines()]
    assert [Path(r["output"]).relative_to(tmp_path / "ray") for r in records] == [
        Path(r["output"]).relative_to(tmp_path / "local") for r in local_records
    ]  # the same JSON lines in the same order
    assert {r["status"] for r in records} == {"done"} and "8 done" in ray.stderr


def test_skip_existing_and_a_failing_input(
    ray_cluster, photos: Path, styles: Path, tmp_path: Path, parity_weights: Path
) -> None:
    out = tmp_path / "out"
    (photos / "broken.png").write_bytes(b"not a picture")
    first = invoke(["batch", photos / "a.png", "-s", styles / "wave.jpg", "-o", out, *fast(parity_weights)])
    assert first.exit_code == 0, first.stderr
    kept = (out / "a__wave.png").stat().st_mtime_ns
    result = invoke([
        "batch", photos, "-s", styles / "wave.jpg", "-o", out, "--skip-existing", "--json", "--engine", "ray",
        "--workers", "1", *fast(parity_weights),
    ])  # fmt: skip
    assert result.exit_code == 1, result.stderr
    status = {Path(r["content"]).name: (r["status"], r["error"]) for r in map(json.loads, result.stdout.splitlines())}
    assert status["a.png"] == ("skipped", None) and status["b.jpg"][0] == "done"
    assert status["broken.png"] == ("failed", f"{photos / 'broken.png'}: not an image file: unknown format "
                                    "(its name says png, its content is not)")  # fmt: skip
    assert (out / "a__wave.png").stat().st_mtime_ns == kept
    assert sorted(folder_bytes(out)) == ["a__wave.png", "b__wave.jpg"] and leftovers(out) == []


def test_a_killed_worker_loses_nothing_and_writes_nothing_twice(
    ray_cluster, styles: Path, tmp_path: Path, parity_weights: Path
) -> None:
    import stylize
    from stylize.pipeline import plan as planning
    from stylize.pipeline.pictures import read_style_files

    for i in range(10):
        rgb(tmp_path / "many" / f"{i:02d}.png", 96, 80, seed=i)
    style = [styles / "wave.jpg"]
    choice = StyleChoice(tuple(map(str, style)), style_size=32)
    tensors = read_style_files(style, 32)
    stylizer = stylize.load_model("adaattn", weights=parity_weights, device="cpu")
    model = ModelChoice("adaattn", str(parity_weights), device="cpu")

    def run(engine_choice: EngineChoice, out: Path, on_first=None) -> list:
        jobs = planning.plan([str(tmp_path / "many")], style, out).jobs
        seen = []

        def record(outcome) -> None:
            seen.append(outcome)
            if on_first is not None and len(seen) == 1:
                on_first()

        with open_engine(engine_choice, model) as engine:
            engine.run_jobs(stylizer, jobs, tensors, choice, record)
        return seen

    killed = []

    def kill_a_worker() -> None:
        pids = worker_pids()
        assert len(pids) == 2, pids
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    local = run(EngineChoice("local"), tmp_path / "local")
    seen = run(EngineChoice("ray", workers=2), tmp_path / "ray", kill_a_worker)
    assert killed and reaped(killed[0])
    assert Counter(o.status for o in seen) == {"done": 10}, [o.error for o in seen if o.error]
    assert sorted(Counter(str(o.job.output) for o in seen).values()) == [1] * 10
    assert folder_bytes(tmp_path / "ray") == folder_bytes(tmp_path / "local") and len(local) == 10
    assert leftovers(tmp_path / "ray") == []


# --- videos ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def video_model(parity_weights: Path):
    import stylize

    return stylize.load_model("adaattn-video", weights=parity_weights, device="cpu")


VIDEO_MODEL = ModelChoice("adaattn-video", device="cpu")
# 24 frames in segments of 8 (3 segments), 2 warm-up frames before each.
SEGMENTED = EngineChoice("ray", workers=2, segment_frames=8, warmup_frames=2)


def stylise_video(engine_choice, model, src, dst, settings, on_progress=None):
    from tests.conftest import smooth_image

    choice = StyleChoice(("style.png",), style_size=32)
    with open_engine(engine_choice, VIDEO_MODEL) as engine:
        return engine.run_video(model, [smooth_image(32, 32, seed=3)], src, dst, choice, on_progress, settings)


def test_video_segments_are_frame_identical_to_the_local_engine_and_resume(
    ray_cluster, video_model, tmp_path: Path
) -> None:
    """--temporal off, a lossless codec: the decoded frames are the frames before encoding."""
    from stylize.media.video.codecs import EncodeSettings
    from stylize.pipeline.engines.ray_engine import segments_folder
    from stylize.pipeline.temporal import TemporalSettings
    from stylize.pipeline.video_runner import VideoSettings

    src = make_clip(tmp_path / "in.mp4", frames=24, fps=24, rotation=90)
    settings = VideoSettings(TemporalSettings(mode="off"), EncodeSettings("ffv1"))
    stylise_video(EngineChoice("local"), video_model, src, tmp_path / "local.mkv", settings)

    class Stop(Exception):
        pass

    def stop_after_a_segment(done: int, total: int | None) -> None:
        raise Stop

    out = tmp_path / "ray.mkv"
    with pytest.raises(Stop):
        stylise_video(SEGMENTED, video_model, src, out, settings, stop_after_a_segment)
    kept = sorted(p.name for p in segments_folder(out).glob("*.nut"))
    assert len(kept) >= 1 and not out.exists() and leftovers(tmp_path) == []
    progress = []
    result = stylise_video(SEGMENTED, video_model, src, out, settings, lambda d, t: progress.append((d, t)))
    assert progress[0][0] >= 8 and progress[-1] == (24, 24)  # the kept segment was not made again
    assert not segments_folder(out).exists() and result.frames == 24
    local, ray = read_clip(tmp_path / "local.mkv"), read_clip(out)
    assert len(ray["frames"]) == len(local["frames"]) == 24
    assert all(np.array_equal(a, b) for a, b in zip(local["frames"], ray["frames"], strict=True))
    for key in ("times", "width", "height", "fps", "duration", "rotation", "codec", "pix_fmt", "audio"):
        assert ray[key] == local[key], key


def test_a_worker_killed_mid_video_loses_no_frame(ray_cluster, video_model, tmp_path: Path) -> None:
    from stylize.media.video.codecs import EncodeSettings
    from stylize.pipeline.temporal import TemporalSettings
    from stylize.pipeline.video_runner import VideoSettings

    src = make_clip(tmp_path / "in.mp4", frames=24, fps=24)
    settings = VideoSettings(TemporalSettings(mode="off"), EncodeSettings("ffv1"))
    stylise_video(EngineChoice("local"), video_model, src, tmp_path / "local.mkv", settings)
    killed = []

    def kill_a_worker(done: int, total: int | None) -> None:
        if not killed:
            pids = worker_pids()
            assert len(pids) == 2, pids
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    result = stylise_video(SEGMENTED, video_model, src, tmp_path / "ray.mkv", settings, kill_a_worker)
    assert killed and result.frames == 24
    local, ray = read_clip(tmp_path / "local.mkv"), read_clip(tmp_path / "ray.mkv")
    assert ray["times"] == local["times"]
    assert all(np.array_equal(a, b) for a, b in zip(local["frames"], ray["frames"], strict=True))


def test_video_with_flow_in_three_segments_keeps_timing_audio_and_a_steady_seam(
    ray_cluster, video_model, tmp_path: Path
) -> None:
    from stylize.metrics.temporal import pair_warping_error
    from stylize.pipeline.video_runner import VideoSettings

    src = make_clip(tmp_path / "in.mp4", frames=24, fps=24, width=96, height=64)
    local_result = stylise_video(EngineChoice("local"), video_model, src, tmp_path / "local.mp4", VideoSettings())
    engine = replace(SEGMENTED, warmup_frames=EngineChoice().warmup_frames)
    result = stylise_video(engine, video_model, src, tmp_path / "ray.mp4", VideoSettings())
    local, ray = read_clip(tmp_path / "local.mp4"), read_clip(tmp_path / "ray.mp4")
    for key in ("times", "width", "height", "fps", "duration", "rotation", "codec", "pix_fmt"):
        assert ray[key] == local[key], key
    assert ray["keyframes"] == local["keyframes"] == [0]  # one encode: no key frame at each segment
    assert ray["audio"]["codec"] == local["audio"]["codec"] == "aac"
    assert abs(ray["audio"]["duration"] - local["audio"]["duration"]) < 1e-3
    assert result.audio == local_result.audio and result.frames == 24
    inputs = read_clip(src)["frames"]
    errors = [pair_warping_error(inputs[t], inputs[t + 1], ray["frames"][t], ray["frames"][t + 1]) for t in range(23)]
    seams = [errors[7], errors[15]]  # frames 7 -> 8 and 15 -> 16 cross from one segment into the next
    others = np.mean([e for t, e in enumerate(errors) if t not in (7, 15)])
    assert max(seams) <= 1.10 * others, (seams, others)


def test_stylize_video_and_batch_with_a_video_on_ray(ray_cluster, tmp_path: Path, parity_weights: Path) -> None:
    (tmp_path / "clips").mkdir()
    src = make_clip(tmp_path / "clips" / "in.mp4", frames=6, fps=12)
    style = rgb(tmp_path / "style.png", 32, 32, seed=4)
    options = ["-s", style, *fast(parity_weights), "--model", "adaattn-video", "--engine", "ray", "--workers", "1"]
    result = invoke(["video", src, "-o", tmp_path / "out.mp4", *options])
    assert result.exit_code == 0, result.stderr
    assert "wrote" in result.stderr and "6 frames" in result.stderr
    batch = invoke(["batch", tmp_path / "clips", "-o", tmp_path / "out", "--json", *options])
    assert batch.exit_code == 0, batch.stderr
    assert json.loads(batch.stdout)["status"] == "done"
    assert (
        len(read_clip(tmp_path / "out.mp4")["frames"])
        == len(read_clip(tmp_path / "out" / "in__style.mp4")["frames"])
        == 6
    )


def test_a_killed_driver_is_finished_by_a_rerun_with_skip_existing(
    ray_cluster, styles: Path, tmp_path: Path, parity_weights: Path
) -> None:
    """A real driver (`python -m stylize`, with a Ray of its own in a namespace of its own), killed after an output."""
    import secrets
    import subprocess
    import sys
    import time

    from stylize.media.atomic import is_temp_file
    from tests.clitools import subprocess_env

    for i in range(12):
        rgb(tmp_path / "many" / f"{i:02d}.png", 160, 128, seed=i)
    args = [tmp_path / "many", "-s", styles / "wave.jpg", *fast(parity_weights), "--engine", "ray", "--workers", "1"]
    env = {**subprocess_env(), "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    out = tmp_path / "out"
    command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', sys.executable, "-m", "stylize"]
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as sink:
        driver = subprocess.Popen([*command, "batch", *map(str, args), "-o", str(out)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=sink)  # fmt: skip
    namespace = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and driver.poll() is None:
            namespace = namespace or _namespace_of(driver.pid)
            if out.is_dir() and any(not is_temp_file(p) for p in out.iterdir()):
                break
            time.sleep(0.05)
        assert driver.poll() is None, "the driver ended before it could be killed"
        driver.kill()
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
        _kill_namespace(namespace, driver.pid)
    written = sorted(p.name for p in out.iterdir() if not is_temp_file(p))
    assert 1 <= len(written) < 12
    # Only stylize's own lines: none of the log lines Ray's C++ start-up writes to the terminal
    # ("[2026-11-30 19:47:54,817 W 20261 20261] network_util.cc:330: Failed to determine local IP ...").
    lines = stderr.read_text().splitlines()
    assert lines and not [line for line in lines if re.match(r"\[\d{4}-\d\d-\d\d [\d:,]+ [DIWEF] ", line)], lines

    rerun = invoke(["batch", *args, "-o", out, "--skip-existing", "--json"])
    assert rerun.exit_code == 0, rerun.stderr
    status = Counter(json.loads(line)["status"] for line in rerun.stdout.splitlines())
    assert status == {"skipped": len(written), "done": 12 - len(written)}
    local = invoke(
        ["batch", tmp_path / "many", "-s", styles / "wave.jpg", *fast(parity_weights), "-o", tmp_path / "local"]
    )
    assert local.exit_code == 0, local.stderr
    assert folder_bytes(out) == folder_bytes(tmp_path / "local") and leftovers(out) == []


def _namespace_of(pid: int) -> str | None:
    """The network namespace of a process, once it has left ours (None before)."""
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None
    return None if namespace == os.readlink("/proc/self/ns/net") else namespace


def _kill_namespace(namespace: str | None, driver: int) -> None:
    """End the processes the killed driver left in its namespace (its Ray), by their ids."""
    if namespace is None:
        return
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if os.readlink(entry / "ns" / "net") == namespace:
                    os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                continue


def test_workers_that_do_not_fit_the_cluster_are_a_setup_error(
    ray_cluster, photos: Path, styles: Path, tmp_path: Path, parity_weights: Path
) -> None:
    from tests.clitools import error_lines

    args = ["batch", photos, "-s", styles, "-o", tmp_path / "out", *fast(parity_weights), "--engine", "ray"]
    too_many = invoke([*args, "--workers", "3"])
    assert too_many.exit_code == 2
    assert error_lines(too_many.stderr) == [
        "error: 3 worker(s) x --cpus-per-worker 1 need 3 CPUs; the Ray cluster has 2"
    ]
    no_gpu = invoke([*args, "--gpus-per-worker", "1"])
    assert no_gpu.exit_code == 2
    assert error_lines(no_gpu.stderr) == ["error: 1 worker(s) x --gpus-per-worker 1 need 1 GPUs; the Ray cluster has 0"]
    assert not any((tmp_path / "out").rglob("*.*"))
