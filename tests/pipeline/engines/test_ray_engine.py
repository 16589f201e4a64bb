"""--engine ray on a real local Ray (in a network namespace): the same files as the local engine,
--skip-existing, a killed worker, loopback only. One Ray serves the whole module."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from stylize.pipeline.engines import open_engine
from stylize.pipeline.settings import EngineChoice, ModelChoice, StyleChoice
from tests.clitools import invoke, leftovers
from tests.imagefiles import rgb
from tests.pipeline.engines.raytools import listening_addresses, start_ray_isolated, worker_pids


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
    folder = tmp_path / "styles"
    rgb(folder / "wave.jpg", 40, 40, seed=5)
    rgb(folder / "ink.png", 48, 32, seed=6)
    return folder


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


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
    args = ["batch", photos, "-s", styles, "-r", "--json", *fast(parity_weights)]
    local = invoke([*args, "-o", tmp_path / "local"])
    assert local.exit_code == 0, local.stderr
    ray = invoke([*args, "-o", tmp_path / "ray", "--engine", "ray", "--workers", "2"])
    assert ray.exit_code == 0, ray.stderr
    expected = outputs(tmp_path / "local")
    assert len(expected) == 6 and outputs(tmp_path / "ray") == expected
    records = [json.loads(line) for line in ray.stdout.splitlines()]
    assert sorted(r["output"] for r in records) == sorted(str(tmp_path / "ray" / name) for name in expected)
    assert {r["status"] for r in records} == {"done"} and "6 done" in ray.stderr


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
    assert sorted(outputs(out)) == ["a__wave.png", "b__wave.jpg"] and leftovers(out) == []


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
    assert killed and not Path(f"/proc/{killed[0]}").exists()
    assert Counter(o.status for o in seen) == {"done": 10}, [o.error for o in seen if o.error]
    assert sorted(Counter(str(o.job.output) for o in seen).values()) == [1] * 10
    assert outputs(tmp_path / "ray") == outputs(tmp_path / "local") and len(local) == 10
    assert leftovers(tmp_path / "ray") == []
