"""The local engine: the model in this process, decoding and writing on a few threads beside it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stylize.pipeline.settings import ModelChoice

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from stylize.pipeline.image_runner import Outcome
    from stylize.pipeline.plan import Job
    from stylize.pipeline.settings import StyleChoice
    from stylize.pipeline.video_runner import OnFrame, VideoResult, VideoSettings
    from stylize.stylizer import Stylizer


class LocalEngine:
    """Runs everything here: `image_runner.run_jobs` and `video_runner.stylize_video_file`."""

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass

    def driver_model(self, choice: ModelChoice) -> ModelChoice:
        return choice

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
        from stylize.pipeline.image_runner import run_jobs

        prepared = {path: stylizer.prepare_style(tensor) for path, tensor in styles.items()}
        run_jobs(
            stylizer, jobs, prepared, choice, on_outcome, masks=masks, workers=io_threads, quality=quality,
            max_pixels=max_pixels, on_video_progress=on_video_progress,
        )  # fmt: skip

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
        from stylize.pipeline.video_runner import stylize_video_file

        return stylize_video_file(stylizer, styles, src, dst, choice, on_progress, settings)
