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

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    from stylize.pipeline.video_runner import OnFrame, VideoJob, VideoResult, VideoSettings
    from stylize.stylizer import Stylizer

log = logging.getLogger(__name__)

INSTALL = "pip install 'stylize[ray]'"
# Tasks each actor holds: one running, one waiting, so it never idles while the driver reads and writes.
QUEUE_PER_WORKER = 2
# How often Ray restarts a dead actor, and retries a task that was running on it, before the task fails.
RESTARTS = 3


@contextlib.contextmanager
def _stderr_to_debug_log() -> Iterator[None]:
    """Send what is written to file descriptor 2 meanwhile to the debug log instead.

    Ray's start-up writes its C++ warnings straight to the descriptor (on a machine without
    internet: that its probe of 8.8.8.8 for its own address failed), past Python's logging and
    around stylize's one-line output; what fails still reaches us as an exception.
    """
    import sys
    import tempfile

    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode(errors="replace").strip()
            if text:
                log.debug("Ray, starting: %s", text)


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


@dataclass(frozen=True)
class StylePayload:
    """The styles of a run, decoded at the driver: shipped once, prepared once per actor.

    Attributes:
        styles: per style file, a (1, 3, h, w) float32 tensor in [0, 1].
        masks: the decoded content masks, one per style, or None.
    """

    styles: dict[Path, Tensor]
    masks: list[Image.Image] | None = None


@dataclass(frozen=True)
class Segment:
    """A run of consecutive frames of a video, stylised by one task.

    Times are the input stream's timestamps (uncut). The task decodes from `warm` (the key frame
    before it, seeking), stylises from `warm` so temporal smoothing settles, and writes the frames
    from `begin` up to `end` (exclusive; None: the end of the range).
    """

    index: int
    warm: int
    begin: int
    end: int | None
    frames: int


def plan_segments(times: Sequence[int], size: int, warmup: int) -> list[Segment]:
    """Cut frames (their sorted timestamps) into segments of `size` frames with `warmup` frames before each."""
    segments = []
    for index, first in enumerate(range(0, len(times), size)):
        last = min(first + size, len(times))
        end = times[last] if last < len(times) else None
        segments.append(Segment(index, times[max(0, first - warmup)], times[first], end, last - first))
    return segments


class StyleWorker:
    """A Ray actor (see `RayEngine`): the model, loaded once; each style prepared once."""

    def __init__(self, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self._stylizer: Stylizer | None = None
        self._styles: dict[str, tuple[StylePayload, dict[Path, Any]]] = {}
        self._videos: dict[str, Path] = {}
        _sweep_scratch()

    def pid(self) -> int:
        return os.getpid()

    @property
    def stylizer(self) -> Stylizer:
        assert self._stylizer is not None, "a task loads the model first"
        return self._stylizer

    def _load(self, model: list[Any]) -> None:
        """Build the model from its boxed `ModelPayload` at this process's first task.

        The model comes with every task rather than to the constructor: Ray restarts a dead actor
        with its constructor's arguments, warns on every start when those live in the object store,
        and a task's own arguments are kept for its retries anyway.
        """
        import ray

        if self._stylizer is None:
            self._stylizer = build_stylizer(ray.get(model[0]))

    def _payload(self, box: list[Any]) -> tuple[StylePayload, dict[Path, Any]]:
        import ray

        key = box[0].hex()
        if key not in self._styles:
            self._styles[key] = (ray.get(box[0]), {})
        return self._styles[key]

    def _prepared(self, box: list[Any], paths: Sequence[Path]) -> list[Any]:
        payload, prepared = self._payload(box)
        for path in paths:
            if path not in prepared:
                prepared[path] = self.stylizer.prepare_style(payload.styles[path])
        return [prepared[path] for path in paths]

    def images(
        self, model: list[Any], data: bytes, jobs: Sequence[Job], styles: list[Any], choice: StyleChoice,
        quality: int, max_pixels: int | None,
    ) -> list[tuple[Outcome, bytes | None]]:  # fmt: skip
        """One content's jobs: its file's bytes in, per job the outcome and the encoded output."""
        from stylize.media.formats import output_format
        from stylize.media.images import decode_image, encode_image
        from stylize.pipeline.image_runner import stylize_picture

        self._load(model)

        try:
            picture = decode_image(data, str(jobs[0].content.path), max_pixels)
        except Exception as exc:
            return [(failed(job, exc), None) for job in jobs]
        masks = self._payload(styles)[0].masks
        results: list[tuple[Outcome, bytes | None]] = []
        for job in jobs:
            start = time.perf_counter()
            try:
                prepared = self._prepared(styles, job.styles)
                result = stylize_picture(self.stylizer, picture, prepared, choice, masks)
                encoded = encode_image(result, output_format(job.output), quality)
            except Exception as exc:
                results.append((failed(job, exc), None))
                continue
            results.append((Outcome(job, DONE, time.perf_counter() - start), encoded))
        return results

    def _local_copy(self, box: list[Any], name: str) -> Path:
        """The input video as a file on this machine (written once per video from the object store)."""

        import ray

        key = box[0].hex()
        if key not in self._videos:
            scratch = _scratch_folder(os.getpid())
            scratch.mkdir(exist_ok=True)
            path = scratch / f"{key[:16]}-{name}"
            path.write_bytes(ray.get(box[0]))
            self._videos[key] = path
        return self._videos[key]

    def release(self, box: list[Any]) -> None:
        """Remove this machine's copy of a video whose segments are done."""
        path = self._videos.pop(box[0].hex(), None)
        if path is not None:
            path.unlink(missing_ok=True)
        if not self._videos:
            shutil.rmtree(_scratch_folder(os.getpid()), ignore_errors=True)

    def segment(
        self, model: list[Any], video: list[Any], name: str, segment: Segment, styles: list[Any],
        choice: StyleChoice, settings: VideoSettings, job: VideoJob,
    ) -> tuple[bytes, int, list[str]]:  # fmt: skip
        """Stylise one segment of a video; returns the segment file (`segment_plan`), its frame count, warnings."""
        import tempfile

        from stylize.media.video.join import SEGMENT_SUFFIX, segment_plan
        from stylize.media.video.reader import Frame, VideoReader
        from stylize.media.video.writer import VideoWriter
        from stylize.pipeline.video_runner import FrameStylist

        self._load(model)

        src = self._local_copy(video, name)
        tb = job.info.time_base
        start = float(segment.warm * tb)
        end = float(segment.end * tb) if segment.end is not None else _range_end(settings)
        paths = [Path(p) for p in choice.styles]
        stylist = FrameStylist(self.stylizer, self._prepared(styles, paths), choice, settings.temporal, job.size,
                               masks=self._payload(styles)[0].masks or [])  # fmt: skip
        shift = int(round(start / tb)) if start else 0  # as the reader counts its range's start
        shift_out = int(round(settings.start / tb)) if settings.start else 0
        width, height = job.size
        frames = 0
        with tempfile.TemporaryDirectory(prefix="stylize-segment-") as folder:
            out = Path(folder) / f"segment{SEGMENT_SUFFIX}"
            plan = segment_plan(out)
            with (
                VideoReader(src, start=start, duration=None if end is None else end - start, size=job.resize,
                            audio=False) as reader,
                VideoWriter(plan, width=width, height=height, info=job.info) as writer,
            ):  # fmt: skip
                for item in reader:
                    assert isinstance(item, Frame)
                    image = stylist(item.image)
                    if item.pts + shift >= segment.begin:
                        writer.write(image, item.pts + shift - shift_out, item.duration)
                        frames += 1
                warnings = list(reader.warnings)
            return out.read_bytes(), frames, warnings


def _scratch_folder(pid: int) -> Path:
    """Where the actor in process `pid` keeps its copies of input videos (local to its machine)."""
    import tempfile

    return Path(tempfile.gettempdir()) / f"stylize-ray-{pid}"


def _sweep_scratch() -> None:
    """Remove the copies left by actors of this machine whose process is gone (killed mid-video)."""
    if not Path("/proc/self").is_dir():
        return
    for folder in _scratch_folder(0).parent.glob("stylize-ray-*"):
        pid = folder.name.removeprefix("stylize-ray-")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _range_end(settings: VideoSettings) -> float | None:
    return settings.start + settings.duration if settings.duration is not None else None


class RayEngine:
    """Runs jobs on Ray actors (see the module docstring). Ray is joined at the first run and left at `close`."""

    def __init__(self, choice: EngineChoice, model: ModelChoice, *, worker: type[StyleWorker] | None = None) -> None:
        """Args:
        worker: the actor class (a benchmark swaps in one without a model to measure the driver alone).
        """
        self.choice = choice
        self.model = model
        self.worker = worker or StyleWorker
        self.ray = import_ray()
        self._joined = False
        self._actors: list[Any] = []
        self._refs: list[Any] = []  # what this run put in the object store, held until `close`
        self._model: list[Any] = []  # the model's payload, boxed (see `_put`)

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
            with _stderr_to_debug_log():
                ray.init(address=address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            raise SetupError(f"cannot start or reach {where}: {exc}") from None
        self._joined = True

    def worker_count(self) -> int:
        """`choice.workers`, or as many actors as the cluster's free CPUs (or GPUs) hold, at least one.

        Raises:
            SetupError: the workers asked for need more CPUs or GPUs than the cluster has (their
                actors would wait for them, and the run with them, for ever).
        """
        total = self.ray.cluster_resources()
        need = {"CPU": self.choice.cpus_per_worker, "GPU": self.choice.gpus_per_worker}
        for kind, each in need.items():
            count = self.choice.workers or 1
            if each > 0 and count * each > total.get(kind, 0) + 1e-9:
                option = f"--{kind.lower()}s-per-worker"
                raise SetupError(
                    f"{count} worker(s) x {option} {each:g} need {count * each:g} {kind}s; the Ray cluster has "
                    f"{total.get(kind, 0):g}", hint=f"use fewer --workers or a smaller {option}, or add nodes",
                )  # fmt: skip
        if self.choice.workers is not None:
            return self.choice.workers
        free = self.ray.available_resources()
        if self.choice.gpus_per_worker > 0:
            return max(1, int(free.get("GPU", 0) // self.choice.gpus_per_worker))
        return max(1, int(free.get("CPU", 1) // self.choice.cpus_per_worker))

    def _workers(self, stylizer: Stylizer) -> list[Any]:
        """The actors, started at the first call (the model shipped once through the object store)."""
        if self._actors:
            return self._actors
        self._join()
        ray = self.ray
        self._model = self._put(payload_of(stylizer, self.model))
        actor = ray.remote(self.worker).options(
            num_cpus=self.choice.cpus_per_worker,
            num_gpus=self.choice.gpus_per_worker,
            max_restarts=RESTARTS,
            max_task_retries=RESTARTS,
        )
        threads = max(1, int(self.choice.cpus_per_worker))
        self._actors = [actor.remote(threads) for _ in range(self.worker_count())]
        return self._actors

    def _put(self, value: Any) -> list[Any]:
        """`value` in the object store, boxed in a list so that actors receive the reference, not the value."""
        ref = self.ray.put(value)
        self._refs.append(ref)
        return [ref]

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
        """As the local engine's: every job's outcome reported once, in the plan's order."""
        report = _InOrder(jobs, on_outcome)
        try:
            self._run_jobs(stylizer, jobs, styles, choice, report, masks, quality, max_pixels, on_video_progress)
        finally:
            report.flush()

    def _run_jobs(
        self, stylizer: Stylizer, jobs: Sequence[Job], styles: Mapping[Path, Tensor], choice: StyleChoice,
        on_outcome: Callable[[Outcome], None], masks: Sequence[Image.Image] | None, quality: int,
        max_pixels: int | None, on_video_progress: OnFrame | None,
    ) -> None:  # fmt: skip
        from stylize.media.atomic import write_bytes_atomic
        from stylize.media.images import read_image_bytes

        ray = self.ray
        blocked = unwritable_folders(job.output for job in jobs if not job.skip)
        groups = [(group[0].kind, settle(group, blocked, on_outcome)) for group in content_groups(jobs)]
        images = [todo for kind, todo in groups if todo and kind == "image"]
        videos = [job for kind, todo in groups if kind == "video" for job in todo]
        if images:
            actors = self._workers(stylizer)
            box = self._put(StylePayload(dict(styles), list(masks) if masks else None))
            free = [actor for actor in actors for _ in range(QUEUE_PER_WORKER)]
            running: dict[Any, tuple[Any, list[Job]]] = {}

            def collect_one() -> None:
                ready, _ = ray.wait(list(running), num_returns=1)
                ref = ready[0]
                actor, todo = running.pop(ref)
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
                    ref = actor.images.remote(self._model, data, todo, box, choice, quality, max_pixels)
                    running[ref] = (actor, todo)
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
        """Stylise a video in segments on the actors and join them (see `join_segments`).

        Finished segments are kept in `segments_folder(dst)` until the video is joined, so a run
        stopped in the middle continues where it stopped when run again with the same options.
        """
        import math

        from stylize.media.atomic import write_bytes_atomic
        from stylize.media.video.join import join_segments
        from stylize.media.video.probe import frame_times
        from stylize.pipeline.video_runner import VideoResult, VideoSettings, plan_video

        settings = settings or VideoSettings()
        src, dst = Path(src), Path(dst)
        began = time.perf_counter()
        job = plan_video(src, dst, choice, settings)
        times = frame_times(src, settings.start, settings.duration)
        if not times:
            raise SetupError(f"{src}: --engine ray cannot cut this video into segments (frames without timestamps)",
                             hint="use --engine local for it")  # fmt: skip
        actors = self._workers(stylizer)
        size = max(1, min(self.choice.segment_frames, math.ceil(len(times) / len(actors))))
        segments = plan_segments(times, size, self.choice.warmup_frames)
        folder = segments_folder(dst)
        stamp = _fingerprint(src, stylizer, styles, choice, settings, self.choice, job)
        kept = _kept_segments(folder, stamp, segments)
        done_frames = sum(seg.frames for seg in segments if seg.index in kept)
        if on_progress is not None and done_frames:
            on_progress(done_frames, len(times))
        todo = [seg for seg in segments if seg.index not in kept]
        warnings = list(job.warnings)
        parts = _Parts([segment_path(folder, seg) for seg in segments], kept)

        def keep(seg: Segment, data: bytes, frames: int, seg_warnings: list[str]) -> None:
            nonlocal done_frames
            if joining.done():
                joining.result()  # the output could not be written: stop now
            if frames != seg.frames:
                raise SetupError(f"{src}: segment {seg.index} gave {frames} frames instead of {seg.frames}",
                                 hint="use --engine local for this video")  # fmt: skip
            write_bytes_atomic(segment_path(folder, seg), data)
            parts.add(seg.index)
            warnings.extend(w for w in seg_warnings if w not in warnings)
            done_frames += frames
            if on_progress is not None:
                on_progress(done_frames, len(times))

        # The driver encodes the output from the segments in order while the actors stylise the later ones.
        with ThreadPoolExecutor(1, thread_name_prefix="stylize-join") as pool:
            joining = pool.submit(join_segments, src, dst, parts, job.plan, job.info, job.size,
                                  start=settings.start, duration=settings.duration)  # fmt: skip
            try:
                if todo:
                    self._stylise_segments(actors, src, todo, styles, choice, settings, job, keep)
                result = joining.result()
            except BaseException:  # Ctrl-C included: the join stops at its next segment, its output dropped
                parts.stop()
                with contextlib.suppress(Exception):
                    joining.result()
                raise
        shutil.rmtree(folder, ignore_errors=True)
        warnings += [note for note in result.audio if not note.startswith("audio copied")]
        return VideoResult(
            output=dst, frames=result.frames, fps=float(job.info.fps), seconds=time.perf_counter() - began,
            size=job.size, audio=result.audio, warnings=tuple(warnings),
        )  # fmt: skip

    def _stylise_segments(
        self, actors: list[Any], src: Path, todo: Sequence[Segment], styles: Sequence[Tensor], choice: StyleChoice,
        settings: VideoSettings, job: VideoJob, keep: Callable[[Segment, bytes, int, list[str]], None],
    ) -> None:  # fmt: skip
        """Run the segments `todo` on the actors, at most `QUEUE_PER_WORKER` each; `keep` takes each result."""
        from stylize.pipeline.pictures import read_masks

        ray = self.ray
        paths = [Path(p) for p in choice.styles]
        box = self._put(StylePayload(dict(zip(paths, styles, strict=True)), read_masks(choice.masks) or None))
        video = self._put(src.read_bytes())
        free = [actor for actor in actors for _ in range(QUEUE_PER_WORKER)]
        running: dict[Any, tuple[Any, Segment]] = {}

        def collect_one() -> None:
            ready, _ = ray.wait(list(running), num_returns=1)
            actor, seg = running.pop(ready[0])
            free.append(actor)
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayError as exc:
                raise _worker_error(exc) from None
            keep(seg, *result)

        finished = False
        try:
            for seg in todo:
                while not free:
                    collect_one()
                actor = free.pop()
                ref = actor.segment.remote(self._model, video, src.name, seg, box, choice, settings, job)
                running[ref] = (actor, seg)
            while running:
                collect_one()
            finished = True
        finally:
            for ref in running:
                ray.cancel(ref)
            # Each actor drops its copy of the input (a stopped run waits for that only briefly;
            # a copy left behind is removed by the next actor started on that machine).
            releases = [actor.release.remote(video) for actor in actors]
            ray.wait(releases, num_returns=len(releases), timeout=None if finished else 5)


class _InOrder:
    """Passes outcomes on in the order of the plan's jobs, as the local engine reports them, whatever
    order the workers finish in. Each output is written as soon as it arrives; only its report waits,
    and what waits is the outcome alone (names and timings), never a picture."""

    def __init__(self, jobs: Sequence[Job], on_outcome: Callable[[Outcome], None]) -> None:
        self._position = {job: index for index, job in enumerate(jobs)}
        self._waiting: dict[int, Outcome] = {}
        self._next = 0
        self._on_outcome = on_outcome

    def __call__(self, outcome: Outcome) -> None:
        self._waiting[self._position[outcome.job]] = outcome
        while self._next in self._waiting:
            self._on_outcome(self._waiting.pop(self._next))
            self._next += 1

    def flush(self) -> None:
        """Report what is still waiting (a run stopped early leaves gaps)."""
        for index in sorted(self._waiting):
            self._on_outcome(self._waiting.pop(index))


class _Stopped(Exception):
    """The run stopped before all segments were made (the join gives up its output)."""


class _Parts:
    """The segment files in order, each given out once it is kept; iterating waits for the next one."""

    def __init__(self, paths: Sequence[Path], kept: Iterable[int]) -> None:
        self._paths = list(paths)
        self._kept = set(kept)
        self._stopped = False
        self._changed = threading.Condition()

    def add(self, index: int) -> None:
        with self._changed:
            self._kept.add(index)
            self._changed.notify_all()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def __iter__(self) -> Iterator[Path]:
        for index, path in enumerate(self._paths):
            with self._changed:
                self._changed.wait_for(lambda: self._stopped or index in self._kept)  # noqa: B023 - called here
                if self._stopped:
                    raise _Stopped
            yield path


def segments_folder(dst: Path) -> Path:
    """Where the finished segments of `dst` are kept until it is joined."""
    return dst.parent / f"{dst.name}.segments"


def segment_path(folder: Path, segment: Segment) -> Path:
    from stylize.media.video.join import SEGMENT_SUFFIX

    return folder / f"{segment.index:05d}-{segment.begin}{SEGMENT_SUFFIX}"


def _fingerprint(
    src: Path, stylizer: Stylizer, styles: Sequence[Tensor], choice: StyleChoice, settings: VideoSettings,
    engine: EngineChoice, job: VideoJob,
) -> str:  # fmt: skip
    """What the kept segments were made from: a rerun with anything changed starts afresh."""
    import hashlib

    stat = src.stat()
    digest = hashlib.sha256()
    for key, value in sorted(stylizer.network.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    for style in styles:
        digest.update(style.detach().cpu().contiguous().numpy().tobytes())
    # The output's encoding is not among them: segments hold exact frames, encoded at the join.
    parts = [
        src.resolve(), stat.st_size, stat.st_mtime_ns, choice, settings.temporal, settings.start, settings.duration,
        _model_of(stylizer), engine.segment_frames, engine.warmup_frames, job.size,
    ]  # fmt: skip
    digest.update(repr(parts).encode())
    return digest.hexdigest()


def _model_of(stylizer: Stylizer) -> tuple[object, ...]:
    return (stylizer.name, stylizer.compute)


def _kept_segments(folder: Path, fingerprint: str, segments: Sequence[Segment]) -> set[int]:
    """The segments a previous run of the same job finished; a folder of another job is emptied."""
    stamp = folder / "fingerprint"
    if folder.is_dir() and (not stamp.is_file() or stamp.read_text() != fingerprint):
        shutil.rmtree(folder)
    from stylize.media.atomic import write_bytes_atomic

    folder.mkdir(parents=True, exist_ok=True)
    if not stamp.is_file():
        write_bytes_atomic(stamp, fingerprint.encode())
    return {seg.index for seg in segments if segment_path(folder, seg).is_file()}


def _worker_error(exc: Exception) -> Exception:
    """What to report for a task that Ray could not complete (its actor kept dying, or was lost)."""
    from stylize.errors import StylizeError

    cause = getattr(exc, "cause", None)
    if isinstance(cause, Exception):
        return cause
    return StylizeError(f"the Ray worker was lost {RESTARTS + 1} times on this input ({type(exc).__name__})")
