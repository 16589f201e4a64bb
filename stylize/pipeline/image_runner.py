"""Stylising image files: one picture, or a planned batch where decoding and encoding overlap the model.

No printing here: a batch reports each finished output through a callback, and the CLI decides
how to show it. The model runs on the calling thread; a small thread pool decodes the next
contents and encodes and writes finished ones meanwhile (Pillow releases the GIL while it works).
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylize.errors import InputError, OutputError, StylizeError, reason
from stylize.media.atomic import check_writable
from stylize.media.images import (
    DEFAULT_QUALITY,
    Picture,
    bound_picture,
    image_to_tensor,
    read_image,
    tensor_to_image,
    write_image,
)
from stylize.pipeline.pictures import mask_tensors
from stylize.pipeline.plan import Job

if TYPE_CHECKING:
    from PIL import Image

    from stylize.pipeline.settings import StyleChoice
    from stylize.stylizer import PreparedStyle, Stylizer

log = logging.getLogger(__name__)

DONE, SKIPPED, FAILED = "done", "skipped", "failed"


# --- one picture ---------------------------------------------------------------------------


def stylize_picture(
    stylizer: Stylizer,
    picture: Picture,
    styles: Sequence[PreparedStyle],
    choice: StyleChoice,
    masks: Sequence[Image.Image] | None = None,
) -> Picture:
    """The stylised picture: bounded by `choice.max_size`, alpha and colour profile carried over.

    Args:
        styles: the prepared styles, mixed with `choice.style_weights` (or `masks`) when several.
        masks: one per style, any size (resized to the content); white is where that style goes.
    """
    bounded = bound_picture(picture, choice.max_size or None)
    out = stylizer.stylize(
        image_to_tensor(bounded.rgb),
        list(styles),
        weights=choice.style_weights,
        masks=mask_tensors(masks or (), bounded.size),
        alpha=choice.alpha,
        preserve_color=choice.preserve_color,
    )
    return bounded.with_rgb(tensor_to_image(out))


# --- a batch -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one job.

    Attributes:
        status: "done", "skipped" (the output existed) or "failed".
        seconds: time spent on this output (model and writing; 0 when skipped).
        error: for a failure, the one-line reason (it names the file).
    """

    job: Job
    status: str
    seconds: float = 0.0
    error: str | None = None


class _Inline(Executor):
    """An executor that runs each task at once on the calling thread (--jobs 0)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


def run_jobs(
    stylizer: Stylizer,
    jobs: Sequence[Job],
    styles: Mapping[Path, PreparedStyle],
    choice: StyleChoice,
    on_outcome: Callable[[Outcome], None],
    *,
    masks: Sequence[Image.Image] | None = None,
    workers: int = 2,
    quality: int = DEFAULT_QUALITY,
    max_pixels: int | None = None,
    on_video_progress: Callable[..., None] | None = None,
) -> None:
    """Run the jobs in order; report each outcome (also skips and failures) through `on_outcome`.

    A failing input fails its jobs and the run goes on. Each content is decoded once for all its
    styles. With `workers` > 0, up to `workers + 1` contents are decoded ahead and finished
    outputs are encoded and written while the model works on the next ones.

    Ctrl-C (KeyboardInterrupt) propagates once the outputs already computed are written; nothing
    else starts. Writes are atomic, so no output is ever left partial.
    """
    blocked = unwritable_folders(job.output for job in jobs if not job.skip)

    def pending(job: Job) -> bool:
        return not job.skip and job.output.parent not in blocked

    groups = content_groups(jobs)
    window = workers + 1
    pool: Executor = ThreadPoolExecutor(workers, thread_name_prefix="stylize-io") if workers > 0 else _Inline()
    decodes: dict[int, Future[Picture]] = {}
    writes: collections.deque[tuple[Job, Future[float], float]] = collections.deque()

    def prefetch(start: int) -> None:
        for k in range(start, min(len(groups), start + window)):
            first = groups[k][0]
            if k not in decodes and first.kind == "image" and any(pending(j) for j in groups[k]):
                decodes[k] = pool.submit(read_image, first.content.path, max_pixels)

    def collect(keep: int) -> None:
        """Report finished writes in order, waiting until at most `keep` are outstanding."""
        while writes and (len(writes) > keep or writes[0][1].done()):
            job, future, model_seconds = writes.popleft()
            try:
                write_seconds = future.result()
            except Exception as exc:
                on_outcome(failed(job, exc))
            else:
                on_outcome(Outcome(job, DONE, model_seconds + write_seconds))

    try:
        for index, group in enumerate(groups):
            prefetch(index)
            todo = settle(group, blocked, on_outcome)
            if not todo:
                continue
            if group[0].kind == "video":
                for job in todo:
                    on_outcome(_run_video(stylizer, job, styles, choice, on_video_progress))
                continue
            try:
                picture = decodes.pop(index).result()
            except Exception as exc:
                for job in todo:
                    on_outcome(failed(job, exc))
                continue
            for job in todo:
                start = time.perf_counter()
                try:
                    result = stylize_picture(stylizer, picture, [styles[s] for s in job.styles], choice, masks)
                except Exception as exc:
                    on_outcome(failed(job, exc))
                    continue
                model_seconds = time.perf_counter() - start
                writes.append((job, pool.submit(_timed_write, job.output, result, quality), model_seconds))
                collect(keep=window)
        collect(keep=0)
    except KeyboardInterrupt:
        # Ctrl-C: no more decoding, but results already computed are still written (quickly, and
        # atomically) and reported; a second Ctrl-C abandons them, still without a partial file.
        for future in decodes.values():
            future.cancel()
        collect(keep=0)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def content_groups(jobs: Sequence[Job]) -> list[list[Job]]:
    """The jobs in runs of one content each (the plan keeps a content's jobs together)."""
    return [list(g) for _, g in itertools.groupby(jobs, key=lambda job: job.content.path)]


def settle(group: Sequence[Job], blocked: Mapping[Path, str], on_outcome: Callable[[Outcome], None]) -> list[Job]:
    """Report the jobs of a group that need no work (skipped, or their folder cannot be written)
    and return the others."""
    todo = []
    for job in group:
        if job.skip:
            on_outcome(Outcome(job, SKIPPED))
        elif job.output.parent in blocked:
            on_outcome(Outcome(job, FAILED, error=f"{job.output}: {blocked[job.output.parent]}"))
        else:
            todo.append(job)
    return todo


def _timed_write(path: Path, picture: Picture, quality: int) -> float:
    start = time.perf_counter()
    write_image(path, picture, quality)
    return time.perf_counter() - start


def unwritable_folders(outputs: Iterable[Path]) -> dict[Path, str]:
    """The folders among `outputs`' that cannot be written, with the reason; each is tried once,
    before any picture is computed for it."""
    problems: dict[Path, str] = {}
    tried: set[Path] = set()
    for output in outputs:
        if output.parent not in tried:
            tried.add(output.parent)
            try:
                check_writable(output)
            except OutputError as exc:
                problems[output.parent] = exc.problem
    return problems


def failed(job: Job, exc: Exception) -> Outcome:
    """The outcome of a job whose work raised, with a one-line reason that names the input.

    Input and output errors name their own file; other errors are prefixed with the content's
    path; an error nobody foresaw also says its type (its traceback is logged at debug level).
    """
    if isinstance(exc, (InputError, OutputError)):
        error = exc.message
    elif isinstance(exc, StylizeError):
        error = f"{job.content.path}: {exc.message}"
    else:
        log.debug("%s failed", job.content.path, exc_info=exc)
        error = f"{job.content.path}: unexpected {type(exc).__name__}: {reason(exc)}"
    return Outcome(job, FAILED, error=error)


def _run_video(
    stylizer: Stylizer,
    job: Job,
    styles: Mapping[Path, PreparedStyle],
    choice: StyleChoice,
    on_progress: Callable[..., None] | None,
) -> Outcome:
    """A video job, through the video runner."""
    from stylize.pipeline.video_runner import stylize_video_file

    start = time.perf_counter()
    try:
        job_choice = dataclasses.replace(choice, styles=tuple(str(s) for s in job.styles))
        stylize_video_file(
            stylizer, [styles[s] for s in job.styles], job.content.path, job.output, job_choice, on_progress=on_progress
        )
    except Exception as exc:
        return failed(job, exc)
    return Outcome(job, DONE, time.perf_counter() - start)
