"""The model registry: each entry says everything about its model, and a new model needs only an entry
and a network class."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import stylize
from stylize.models.adaattn import AdaAttNVideoNet
from stylize.models.network import StyleNetwork
from stylize.training.config import TrainConfig
from stylize.weights.locate import find_files
from stylize.weights.registry import MODELS, ModelSpec, Training, WeightFile
from tests.conftest import ROOT, smooth_image


@pytest.mark.parametrize("spec", MODELS.values(), ids=list(MODELS))
def test_each_entry_names_a_network_that_fits_its_files(spec: ModelSpec) -> None:
    cls = spec.network_class()
    assert issubclass(cls, StyleNetwork) and cls.official_forward is not StyleNetwork.official_forward
    net = spec.build()
    assert type(net) is cls
    for wf in spec.all_files:
        assert isinstance(getattr(net, wf.module), torch.nn.Module)
    assert spec.marker is None or spec.marker in {wf.filename for wf in spec.files}
    # Training crops must be sizes the network itself accepts.
    assert spec.training.crop_multiple % cls.multiple == 0
    assert set(spec.training.default_lambdas) <= {"global", "local", "a2k", "temporal"}


def test_importing_the_registry_imports_no_torch() -> None:
    code = "import sys, stylize.weights.registry as r; r.MODELS['adaattn'].network; print('torch' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_training_defaults_come_from_the_registry(tmp_path: Path) -> None:
    def config(**kwargs: object) -> TrainConfig:
        return TrainConfig(content=(tmp_path,), style=(tmp_path,), out=tmp_path, **kwargs)  # type: ignore[arg-type]

    assert config(model="stya2k", crop=128).weights == {"global": 10.0, "a2k": 1.25}
    assert config(model="adaattn", lambdas={"local": 1.0}).weights == {"global": 10.0, "local": 1.0}
    with pytest.raises(stylize.StylizeError, match="stya2k needs a multiple of 64"):
        config(model="stya2k", crop=96)


class ToyNet(AdaAttNVideoNet):
    """A "fourth model" for the test below: the video network under another name."""


def test_a_new_model_is_one_entry_and_one_network_class(
    parity_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry naming its network class and files is all `load_model` needs: the files are found
    in a plain folder by their marker, loaded strictly, and the network runs."""
    toy = ModelSpec(
        name="toy",
        title="a toy",
        purpose="video",
        network=f"{__name__}:ToyNet",
        folder="toy",
        official_folders=(),
        files=(WeightFile("toy_attention.pth", "transformer"), WeightFile("toy_decoder.pth", "decoder")),
        marker="toy_attention.pth",
        training=Training(crop_multiple=16, lambdas=(("global", 10.0), ("local", 3.0))),
        licence="none",
        how_to_get="make one",
    )
    monkeypatch.setitem(MODELS, "toy", toy)
    folder = tmp_path / "plain"
    folder.mkdir()
    for name, source in (
        ("toy_attention.pth", "latest_net_transformer.pth"),
        ("toy_decoder.pth", "latest_net_decoder.pth"),
    ):
        os.symlink(parity_weights / "adaattn_video" / source, folder / name)
    os.symlink(parity_weights / "vgg_normalised.pth", folder / "vgg_normalised.pth")
    assert find_files(toy, folder).location == str(folder)

    model = stylize.load_model("toy", weights=folder, device="cpu")
    assert type(model.network) is ToyNet
    video = stylize.load_model("adaattn-video", weights=parity_weights, device="cpu")
    content, style = smooth_image(32, 48), smooth_image(32, 32, seed=1)
    assert torch.equal(model(content, style), video(content, style))
    # The video model's folder is not taken for the toy's, nor the other way round.
    with pytest.raises(stylize.StylizeError, match="no toy files"):
        find_files(toy, parity_weights / "adaattn_video")
    with pytest.raises(stylize.StylizeError, match="no adaattn-video files"):
        find_files(MODELS["adaattn-video"], folder)
