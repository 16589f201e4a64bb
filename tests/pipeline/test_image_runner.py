"""Running planned jobs: each content decoded once, threads change nothing but speed, failures stay local."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylize.media.images import read_image
from stylize.pipeline import image_runner, pictures
from stylize.pipeline.pictures import prepare_styles
from stylize.pipeline.plan import expand_images, plan
from stylize.pipeline.settings import StyleChoice
from tests.clitools import one_thread  # noqa: F401 (autouse: tiny images run fastest on one thread)
from tests.imagefiles import odd_images, rgb


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    rgb(tmp_path / "in" / "a.png", 48, 32, seed=1)
    rgb(tmp_path / "in" / "b.png", 32, 48, seed=2)
    (tmp_path / "in" / "c.png").write_text("not an image")
    rgb(tmp_path / "styles" / "x.png", 32, 32, seed=3)
    rgb(tmp_path / "styles" / "y.png", 32, 32, seed=4)
    return tmp_path


def run(adaattn, root: Path, out: str, workers: int, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    decoded: list[str] = []

    def counting(path, max_pixels=None):  # type: ignore[no-untyped-def]
        decoded.append(Path(path).name)
        return read_image(path, max_pixels)

    monkeypatch.setattr(image_runner, "read_image", counting)
    monkeypatch.setattr(pictures, "read_image", counting)
    jobs = plan([str(root / "in")], expand_images([str(root / "styles")]), root / out).jobs
    choice = StyleChoice(styles=(), style_size=32)
    styles = prepare_styles(adaattn, sorted({s for j in jobs for s in j.styles}), 32)
    outcomes: list[image_runner.Outcome] = []
    image_runner.run_jobs(adaattn, jobs, styles, choice, outcomes.append, workers=workers)
    return outcomes, decoded


def test_threads_change_nothing_but_speed(adaattn, inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    serial, decoded = run(adaattn, inputs, "serial", 0, monkeypatch)
    threaded, _ = run(adaattn, inputs, "threaded", 2, monkeypatch)
    assert decoded == ["x.png", "y.png", "a.png", "b.png", "c.png"]  # styles once, each content once
    assert [(o.job.output.name, o.status) for o in serial] == [
        ("a__x.png", "done"), ("a__y.png", "done"), ("b__x.png", "done"), ("b__y.png", "done"),
        ("c__x.png", "failed"), ("c__y.png", "failed"),
    ]  # fmt: skip
    assert sorted((o.job.output.name, o.status) for o in threaded) == sorted(
        (o.job.output.name, o.status) for o in serial
    )
    for name in ("a__x.png", "b__y.png"):
        assert (inputs / "serial" / name).read_bytes() == (inputs / "threaded" / name).read_bytes()
    failure = serial[-1]
    assert (
        failure.error
        == f"{inputs / 'in' / 'c.png'}: not an image file: unknown format (its name says png, its content is not)"
    )


def test_stylize_picture_keeps_alpha_and_bounds_the_size(adaattn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    odd = odd_images(tmp_path)
    style = prepare_styles(adaattn, [odd["gray"]], 32)[odd["gray"]]
    picture = read_image(odd["rgba"])
    result = image_runner.stylize_picture(adaattn, picture, [style], StyleChoice(styles=(), max_size=32))
    assert result.size == (32, 24) and result.alpha is not None and result.alpha.size == (32, 24)
    assert result.rgb.mode == "RGB"
