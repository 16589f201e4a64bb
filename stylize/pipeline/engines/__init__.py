"""Where the work runs: this process (`local`) or actors on a Ray cluster (`ray`), behind one interface.

The command line plans a run the same way whatever the engine (inputs, output names,
--skip-existing) and hands the engine the jobs; every engine reports each job through the same
`Outcome` callback and writes each output atomically, so what a user sees does not depend on it.
Ray is imported only by the Ray engine, when one is opened: `import stylize` never needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from stylize.pipeline.settings import EngineChoice, ModelChoice

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from stylize.pipeline.image_runner import Outcome
    from stylize.pipeline.plan import Job
    from stylize.pipeline.settings import StyleChoice
    from stylize.pipeline.video_runner import OnFrame, VideoResult, VideoSettings
    from stylize.stylizer import Stylizer


class Engine(Protocol):
    """What every engine does. Open one with `open_engine` and close it (it is a context manager)."""

    def driver_model(self, choice: ModelChoice) -> ModelChoice:
        """The model this process loads: the one that runs here, or (Ray) the weights to ship, on the CPU."""
        ...

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
        """Run planned jobs (see `stylize.pipeline.image_runner.run_jobs`).

        Args:
            stylizer: the model `driver_model` named, loaded.
            styles: every style file the jobs use, as (1, 3, h, w) float32 tensors in [0, 1]
                (`stylize.pipeline.pictures.read_style_files`).
            masks: one per style when they are mixed by masks.
            io_threads: threads that decode and write images beside the model (local engine).
        """
        ...

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
        """Stylise one video file (see `stylize.pipeline.video_runner.stylize_video_file`)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc: object) -> None: ...


def open_engine(choice: EngineChoice, model: ModelChoice) -> Engine:
    """The engine `choice` names, for runs of `model`.

    Raises:
        SetupError: --engine ray without Ray installed (one line saying how to install it), or a
            cluster that cannot be reached.
    """
    if choice.name == "ray":
        from stylize.pipeline.engines.ray_engine import RayEngine

        return RayEngine(choice, model)
    from stylize.pipeline.engines.local import LocalEngine

    return LocalEngine()
