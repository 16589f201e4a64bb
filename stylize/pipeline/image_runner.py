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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylize.errors import InputError, StylizeError
from stylize.media.images import (
    DEFAULT_QUALITY,
    Picture,
    bound_picture,
    image_to_tensor,
    mask_to_tensor,
    read_image,
    resize_long_side,
    tensor_to_image,
    write_image,
)
from stylize.pipeline.plan import Job

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from stylize.cli.options import StyleChoice
    from stylize.stylizer import PreparedStyle, Stylizer

log = logging.getLogger(__name__)

DONE, SKIPPED, FAILED = "done", "skipped", "failed"


# --- one picture ---------------------------------------------------------------------------


def style_tensor(picture: Picture, style_size: int | None) -> Tensor:
    """A style picture as the network takes it: long side `style_size` (None/0 keeps it), (1, 3, H, W) in [0, 1]."""
    return image_to_tensor(resize_long_side(picture.rgb, style_size or None))


def prepare_styles(
    stylizer: Stylizer, paths: Sequence[Path], style_size: int | None, max_pixels: int | None = None
) -> dict[Path, PreparedStyle]:
    """Each distinct style file decoded and encoded once, for the whole run.

    Raises:
        InputError: a style file cannot be read (naming it).
    """
    prepared: dict[Path, PreparedStyle] = {}
    for path in paths:
        if path not in prepared:
            prepared[path] = stylizer.prepare_style(style_tensor(read_image(path, max_pixels), style_size))
    return prepared


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
    mask_tensors = [mask_to_tensor(m, bounded.size) for m in masks] if masks else None
    out = stylizer.stylize(
        image_to_tensor(bounded.rgb),
        list(styles),
        weights=choice.style_weights,
        masks=mask_tensors,
        alpha=choice.alpha,
        preserve_color=choice.preserve_color,
    )
    return bounded.with_rgb(tensor_to_image(out))


def read_masks(paths: Sequence[str], max_pixels: int | None = None) -> list[Image.Image]:
    """Mask images, decoded once; each is resized to every content it is used with."""
    return [read_image(path, max_pixels).rgb for path in paths]


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
    groups = [list(g) for _, g in itertools.groupby(jobs, key=lambda job: job.content.path)]
    window = workers + 1
    pool: Executor = ThreadPoolExecutor(workers, thread_name_prefix="stylize-io") if workers > 0 else _Inline()
    decodes: dict[int, Future[Picture]] = {}
    writes: collections.deque[tuple[Job, Future[float], float]] = collections.deque()

    def prefetch(start: int) -> None:
        for k in range(start, min(len(groups), start + window)):
            first = groups[k][0]
            if k not in decodes and first.kind == "image" and not all(j.skip for j in groups[k]):
                decodes[k] = pool.submit(read_image, first.content.path, max_pixels)

    def collect(keep: int) -> None:
        """Report finished writes in order, waiting until at most `keep` are outstanding."""
        while writes and (len(writes) > keep or writes[0][1].done()):
            job, future, model_seconds = writes.popleft()
            try:
                write_seconds = future.result()
            except StylizeError as exc:
                on_outcome(Outcome(job, FAILED, error=exc.message))
            except Exception as exc:
                on_outcome(Outcome(job, FAILED, error=_unexpected(job, exc)))
            else:
                on_outcome(Outcome(job, DONE, model_seconds + write_seconds))

    try:
        for index, group in enumerate(groups):
            prefetch(index)
            for job in group:
                if job.skip:
                    on_outcome(Outcome(job, SKIPPED))
            todo = [job for job in group if not job.skip]
            if not todo:
                continue
            if group[0].kind == "video":
                for job in todo:
                    on_outcome(_run_video(stylizer, job, styles, choice, on_video_progress))
                continue
            try:
                picture = decodes.pop(index).result()
            except StylizeError as exc:
                for job in todo:
                    on_outcome(Outcome(job, FAILED, error=exc.message))
                continue
            except Exception as exc:
                for job in todo:
                    on_outcome(Outcome(job, FAILED, error=_unexpected(job, exc)))
                continue
            for job in todo:
                start = time.perf_counter()
                try:
                    result = stylize_picture(stylizer, picture, [styles[s] for s in job.styles], choice, masks)
                except StylizeError as exc:
                    on_outcome(Outcome(job, FAILED, error=f"{job.content.path}: {exc.message}"))
                    continue
                except Exception as exc:
                    on_outcome(Outcome(job, FAILED, error=_unexpected(job, exc)))
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


def _timed_write(path: Path, picture: Picture, quality: int) -> float:
    start = time.perf_counter()
    write_image(path, picture, quality)
    return time.perf_counter() - start


def _unexpected(job: Job, exc: Exception) -> str:
    """A one-line failure for an error nobody foresaw (the traceback is logged at debug level)."""
    log.debug("%s failed", job.content.path, exc_info=exc)
    lines = str(exc).strip().splitlines()
    return f"{job.content.path}: unexpected {type(exc).__name__}" + (f": {lines[0]}" if lines else "")


def _run_video(
    stylizer: Stylizer,
    job: Job,
    styles: Mapping[Path, PreparedStyle],
    choice: StyleChoice,
    on_progress: Callable[..., None] | None,
) -> Outcome:
    """A video job, through the video module (imported only when a batch holds a video)."""
    start = time.perf_counter()
    try:
        try:
            from stylize.pipeline.video_runner import stylize_video_file
        except ImportError as exc:
            raise InputError(job.content.path, f"video files are not supported by this installation ({exc})") from exc
        job_choice = dataclasses.replace(choice, styles=tuple(str(s) for s in job.styles))
        stylize_video_file(
            stylizer, [styles[s] for s in job.styles], job.content.path, job.output, job_choice, on_progress=on_progress
        )
    except StylizeError as exc:
        return Outcome(job, FAILED, error=exc.message)
    except Exception as exc:
        return Outcome(job, FAILED, error=_unexpected(job, exc))
    return Outcome(job, DONE, time.perf_counter() - start)
