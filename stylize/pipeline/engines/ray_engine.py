"""The Ray engine: Ray Core actors, each holding the model once, fed by this process (the driver).

    driver: plan, read input bytes ──ray──> actor: decode, stylise, encode ──ray──> driver: write atomically

Nothing is shared but Ray's object store: the model's weights go into it once (`ray.put`) and
every actor builds its network from them, so a worker machine needs no weights on disk; style
pictures travel the same way and each actor prepares each style once; an input travels as its
file's bytes and comes back as the encoded output's bytes. Each actor holds at most
`QUEUE_PER_WORKER` tasks, so the driver never has more than that many inputs in flight however
long the plan is. An actor whose process dies is restarted by Ray and its tasks are run again
(`max_restarts`, `max_task_retries`); only the driver writes, once per output, so a retried task
cannot write twice.

Ray Core rather than Ray Data: the work is a stateful model per worker fed by one driver that
owns the file system and the output names, which is what actors are; Ray Data would add pyarrow
and pandas for a pipeline whose blocks are single files.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylize.errors import SetupError
from stylize.pipeline.image_runner import DONE, Outcome, content_groups, failed, settle, unwritable_folders
from stylize.pipeline.settings import EngineChoice, ModelChoice

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from stylize.models.config import Compute
    from stylize.pipeline.plan import Job
    from stylize.pipeline.settings import StyleChoice
    from stylize.pipeline.video_runner import OnFrame, VideoResult, VideoSettings
    from stylize.stylizer import Stylizer

log = logging.getLogger(__name__)

INSTALL = "pip install 'stylize[ray]'"
# Tasks each actor holds: one running, one waiting, so it never idles while the driver reads and writes.
QUEUE_PER_WORKER = 2
# How often Ray restarts a dead actor, and retries a task that was running on it, before the task fails.
RESTARTS = 3


def import_ray() -> Any:
    """The `ray` module, or a one-line SetupError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise SetupError(f"--engine ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


@dataclass(frozen=True)
class ModelPayload:
    """What an actor needs to build the model without any file: the weights and how to run them.

    Attributes:
        name: the registry name of the model.
        state: the network's state dict (CPU tensors).
        device, precision: as the user chose them; resolved on the actor's machine.
        compute: attention policy, seed and memory bounds.
    """

    name: str
    state: dict[str, Tensor]
    device: str
    precision: str
    compute: Compute
    bundled: bool = False
    location: str = ""


def payload_of(stylizer: Stylizer, choice: ModelChoice) -> ModelPayload:
    state = {key: value.detach().cpu().contiguous() for key, value in stylizer.network.state_dict().items()}
    return ModelPayload(
        stylizer.name, state, choice.device, choice.precision, stylizer.compute, stylizer.bundled, stylizer.location
    )


def build_stylizer(payload: ModelPayload) -> Stylizer:
    """The model from a payload, on this machine's device (the same values as `stylize.load_model`)."""
    from stylize.device import resolve_device, resolve_precision
    from stylize.stylizer import Stylizer
    from stylize.weights.registry import get_spec

    spec = get_spec(payload.name)
    network = spec.build()
    network.load_state_dict(payload.state, strict=True)
    device = resolve_device(payload.device)
    return Stylizer(
        network.eval(), spec, device, resolve_precision(payload.precision, device), payload.compute,
        bundled=payload.bundled, location=payload.location,
    )  # fmt: skip


class StyleWorker:
    """A Ray actor (see `RayEngine`): the model, loaded once, and each style prepared once."""

    def __init__(
        self,
        model: ModelPayload,
        styles: Mapping[Path, Tensor],
        choice: StyleChoice,
        masks: Sequence[Image.Image] | None,
        threads: int,
    ) -> None:
        import torch

        torch.set_num_threads(threads)
        self.stylizer = build_stylizer(model)
        self.styles = dict(styles)
        self.choice = choice
        self.masks = masks
        self._prepared: dict[Path, Any] = {}

    def pid(self) -> int:
        return os.getpid()

    def _style(self, path: Path) -> Any:
        if path not in self._prepared:
            self._prepared[path] = self.stylizer.prepare_style(self.styles[path])
        return self._prepared[path]

    def images(
        self, data: bytes, jobs: Sequence[Job], quality: int, max_pixels: int | None
    ) -> list[tuple[Outcome, bytes | None]]:
        """One content's jobs: its file's bytes in, per job the outcome and the encoded output."""
        from stylize.media.formats import output_format
        from stylize.media.images import decode_image, encode_image
        from stylize.pipeline.image_runner import stylize_picture

        try:
            picture = decode_image(data, str(jobs[0].content.path), max_pixels)
        except Exception as exc:
            return [(failed(job, exc), None) for job in jobs]
        results: list[tuple[Outcome, bytes | None]] = []
        for job in jobs:
            start = time.perf_counter()
            try:
                styles = [self._style(s) for s in job.styles]
                result = stylize_picture(self.stylizer, picture, styles, self.choice, self.masks)
                encoded = encode_image(result, output_format(job.output), quality)
            except Exception as exc:
                results.append((failed(job, exc), None))
                continue
            results.append((Outcome(job, DONE, time.perf_counter() - start), encoded))
        return results


class RayEngine:
    """Runs jobs on Ray actors (see the module docstring). Ray is joined at the first run and left at `close`."""

    def __init__(self, choice: EngineChoice, model: ModelChoice) -> None:
        self.choice = choice
        self.model = model
        self.ray = import_ray()
        self._joined = False
        self._actors: list[Any] = []
        self._refs: list[Any] = []

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def driver_model(self, choice: ModelChoice) -> ModelChoice:
        # The driver only reads and checks the weights to ship them: on the CPU, as stored.
        return replace(choice, device="cpu", precision="fp32")

    # --- the cluster -------------------------------------------------------------------

    def _join(self) -> None:
        ray = self.ray
        if ray.is_initialized():
            return
        address = self.choice.address or os.environ.get("RAY_ADDRESS") or None
        try:
            ray.init(address=address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            raise SetupError(f"cannot start or reach {where}: {exc}") from None
        self._joined = True

    def worker_count(self) -> int:
        """`choice.workers`, or as many actors as the cluster's free CPUs (or GPUs) hold, at least one."""
        if self.choice.workers is not None:
            return self.choice.workers
        free = self.ray.available_resources()
        if self.choice.gpus_per_worker > 0:
            return max(1, int(free.get("GPU", 0) // self.choice.gpus_per_worker))
        return max(1, int(free.get("CPU", 1) // self.choice.cpus_per_worker))

    def _start_workers(
        self,
        stylizer: Stylizer,
        styles: Mapping[Path, Tensor],
        choice: StyleChoice,
        masks: Sequence[Image.Image] | None,
    ) -> list[Any]:
        self._join()
        ray = self.ray
        model_ref = ray.put(payload_of(stylizer, self.model))
        styles_ref = ray.put(dict(styles))
        # Held until `close`: a restarted actor builds itself from them again.
        self._refs += [model_ref, styles_ref]
        actor = ray.remote(StyleWorker).options(
            num_cpus=self.choice.cpus_per_worker,
            num_gpus=self.choice.gpus_per_worker,
            max_restarts=RESTARTS,
            max_task_retries=RESTARTS,
        )
        threads = max(1, int(self.choice.cpus_per_worker))
        actors = [
            actor.remote(model_ref, styles_ref, choice, list(masks) if masks else None, threads)
            for _ in range(self.worker_count())
        ]
        self._actors += actors
        return actors

    def close(self) -> None:
        if not self._actors and not self._joined:
            return
        for actor in self._actors:
            self.ray.kill(actor)
        self._actors.clear()
        self._refs.clear()
        if self._joined:
            self.ray.shutdown()
            self._joined = False

    # --- images ------------------------------------------------------------------------

    def run_jobs(
        self,
        stylizer: Stylizer,
        jobs: Sequence[Job],
        styles: Mapping[Path, Tensor],
        choice: StyleChoice,
        on_outcome: Callable[[Outcome], None],
        *,
        masks: Sequence[Image.Image] | None = None,
        io_threads: int = 2,
        quality: int = 95,
        max_pixels: int | None = None,
        on_video_progress: OnFrame | None = None,
    ) -> None:
        from stylize.media.atomic import write_bytes_atomic
        from stylize.media.images import read_image_bytes

        ray = self.ray
        blocked = unwritable_folders(job.output for job in jobs if not job.skip)
        groups = [(group[0].kind, settle(group, blocked, on_outcome)) for group in content_groups(jobs)]
        images = [todo for kind, todo in groups if todo and kind == "image"]
        videos = [job for kind, todo in groups if kind == "video" for job in todo]
        if images:
            actors = self._start_workers(stylizer, styles, choice, masks)
            free = [actor for actor in actors for _ in range(QUEUE_PER_WORKER)]
            running: dict[Any, tuple[Any, list[Job], float]] = {}

            def collect_one() -> None:
                ready, _ = ray.wait(list(running), num_returns=1)
                ref = ready[0]
                actor, todo, began = running.pop(ref)
                free.append(actor)
                try:
                    results = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    for job in todo:
                        on_outcome(failed(job, _worker_error(exc)))
                    return
                for outcome, encoded in results:
                    if encoded is not None:
                        try:
                            write_bytes_atomic(outcome.job.output, encoded)
                        except Exception as exc:
                            outcome = failed(outcome.job, exc)
                    on_outcome(outcome)

            try:
                for todo in images:
                    while not free:
                        collect_one()
                    try:
                        data = read_image_bytes(todo[0].content.path)
                    except Exception as exc:
                        for job in todo:
                            on_outcome(failed(job, exc))
                        continue
                    actor = free.pop()
                    running[actor.images.remote(data, todo, quality, max_pixels)] = (actor, todo, time.perf_counter())
                while running:
                    collect_one()
            except KeyboardInterrupt:
                # Ctrl-C: nothing new starts; outputs already computed are written (atomically).
                for ref in list(running):
                    ready, _ = ray.wait([ref], timeout=0)
                    if not ready:
                        ray.cancel(ref)
                        running.pop(ref)
                while running:
                    collect_one()
                raise
        for job in videos:
            on_outcome(self._video_job(stylizer, job, styles, choice, on_video_progress))

    def _video_job(
        self, stylizer: Stylizer, job: Job, styles: Mapping[Path, Tensor], choice: StyleChoice,
        on_progress: OnFrame | None,
    ) -> Outcome:  # fmt: skip
        start = time.perf_counter()
        try:
            job_choice = replace(choice, styles=tuple(str(s) for s in job.styles))
            self.run_video(stylizer, [styles[s] for s in job.styles], job.content.path, job.output, job_choice,
                           on_progress)  # fmt: skip
        except Exception as exc:
            return failed(job, exc)
        return Outcome(job, DONE, time.perf_counter() - start)

    # --- videos ------------------------------------------------------------------------

    def run_video(
        self,
        stylizer: Stylizer,
        styles: Sequence[Tensor],
        src: Path,
        dst: Path,
        choice: StyleChoice,
        on_progress: OnFrame | None = None,
        settings: VideoSettings | None = None,
    ) -> VideoResult:
        raise SetupError("--engine ray does not stylise videos yet")


def _worker_error(exc: Exception) -> Exception:
    """What to report for a task that Ray could not complete (its actor kept dying, or was lost)."""
    from stylize.errors import StylizeError

    cause = getattr(exc, "cause", None)
    if isinstance(cause, Exception):
        return cause
    return StylizeError(f"the Ray worker was lost {RESTARTS + 1} times on this input ({type(exc).__name__})")
