"""What models exist and everything about each: the single source of truth, as frozen data.

A model is one `ModelSpec` in `MODELS`: its network class (named, so importing this module does
not import torch), its checkpoint files and where releases keep them, and how `stylize train`
trains it. Behaviour that differs between models is a method of the network class.

Hashes and sources were read from the official releases and repositories (the maintainers publish
none): sha256 where the file was read, git blob ids of the copies committed to GitHub.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stylize.models.network import StyleNetwork

DRIVE = "https://drive.usercontent.google.com/download?export=download&confirm=t&id="
STYA2K_RAW = "https://github.com/LearningHx/StyA2K/raw/70b58dfdf6c249a0c621d8b849945272671dce74/"


@dataclass(frozen=True)
class Source:
    """A public place a file can be downloaded from.

    Attributes:
        url: the download address.
        member: for an archive, the file's name inside it (found at any depth); None for a plain file.
    """

    url: str
    member: str | None = None


@dataclass(frozen=True)
class WeightFile:
    """One checkpoint file of a model.

    Attributes:
        filename: the official file name.
        module: the network attribute it loads into (strictly).
        digests: known digests, "sha256:<hex>" or "gitblob:<hex>" (git hash-object of the file).
        sources: where `stylize weights fetch` may download it, in order of preference.
        size: the released file's size in bytes, where known.
    """

    filename: str
    module: str
    digests: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    size: int | None = None


@dataclass(frozen=True)
class Training:
    """How `stylize train` trains a model.

    Attributes:
        crop_multiple: training crop sides must be multiples of this.
        lambdas: the default loss weights as (loss, weight) pairs; the names say which losses the
            model trains with: "global", "local" (AdaAttN), "a2k" (StyA2K), "temporal" (the model
            learns from pairs of frames).
        global_layers: encoder layers of the global style loss, (first, stop) with 0 = relu1_1.
        ours: the recipe is stylize's own, not a paper's.
    """

    crop_multiple: int
    lambdas: tuple[tuple[str, float], ...]
    global_layers: tuple[int, int] = (1, 5)
    ours: bool = False

    @property
    def default_lambdas(self) -> dict[str, float]:
        return dict(self.lambdas)

    @property
    def frame_pairs(self) -> bool:
        """Whether a training step shows the model two frames of each content (the temporal loss)."""
        return "temporal" in self.default_lambdas


@dataclass(frozen=True)
class ModelSpec:
    """A model: its network, its files, where a release or a checkout keeps them, how it trains.

    Attributes:
        name: the name users type (`--model`, `load_model`).
        title: the paper.
        purpose: "image" or "video".
        network: "module:Class" of its `StyleNetwork` subclass (imported on first use).
        folder: the sub-folder of a stylize weights folder that holds the model's files.
        official_folders: where an official checkout keeps them (relative to its root).
        files: the model's own files (the encoder is `ENCODER`, shared).
        marker: the file whose presence says "this plain folder is this model's" (the other names
            are shared between models); None for a model without one, recognised by its files alone.
        training: the training recipe.
        licence: of the released weights.
        how_to_get: one line for a user whose files are missing.
    """

    name: str
    title: str
    purpose: str
    network: str
    folder: str
    official_folders: tuple[str, ...]
    files: tuple[WeightFile, ...]
    marker: str | None
    training: Training
    licence: str
    how_to_get: str

    def file(self, filename: str) -> WeightFile:
        return next(f for f in self.files if f.filename == filename)

    def network_class(self) -> type[StyleNetwork]:
        """The network class (imports torch and the model's module)."""
        module, _, name = self.network.partition(":")
        cls: type[StyleNetwork] = getattr(importlib.import_module(module), name)
        return cls

    def build(self) -> StyleNetwork:
        """A fresh network of this model, on the CPU, with untrained weights."""
        return self.network_class()()

    @property
    def all_files(self) -> tuple[WeightFile, ...]:
        return (ENCODER, *self.files)


ENCODER = WeightFile(
    "vgg_normalised.pth",
    "encoder",
    digests=("gitblob:8e2f8b2efaa09cf8e96ba338e62f6b260a995857",),
    sources=(
        Source("https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0/vgg_normalised.pth"),
        Source(DRIVE + "1BinnwM5AmIcVubr16tPTqxMjUCE8iu5M"),
    ),
    size=80_108_181,
)
# Where an official checkout or release keeps the encoder, relative to its root.
ENCODER_FOLDERS = ("", "checkpoints")

ADAATTN_ZIP = DRIVE + "1XvpD1eI4JeCBIaW5uwMT6ojF_qlzM_lo"
VIDEO_ZIP = DRIVE + "1ZrFPrbSR56WXL2l62Jh7qjmuaWugJtvL"

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="adaattn",
            title="AdaAttN (Liu et al., ICCV 2021)",
            purpose="image",
            network="stylize.models.adaattn:AdaAttNNet",
            folder="adaattn",
            official_folders=("checkpoints/AdaAttN", "AdaAttN"),
            files=(
                WeightFile(
                    "latest_net_adaattn_3.pth",
                    "adaattn_3",
                    digests=(
                        "sha256:14420dbd26eb02f84e41156a14605ee27ba081bc66b235cda1fce635e49ca24f",
                        "gitblob:b6e47a88859dcc130379a131d647aa327468e3e4",
                    ),
                    sources=(Source(ADAATTN_ZIP, "latest_net_adaattn_3.pth"),),
                    size=1_874_795,
                ),
                WeightFile(
                    "latest_net_transformer.pth",
                    "transformer",
                    digests=("gitblob:2013a77294984286e007f61ce560d652b5360b65",),
                    sources=(Source(ADAATTN_ZIP, "latest_net_transformer.pth"),),
                ),
                WeightFile(
                    "latest_net_decoder.pth",
                    "decoder",
                    digests=("gitblob:85008a032533c1a03e215fb55ead1df84891b601",),
                    sources=(Source(ADAATTN_ZIP, "latest_net_decoder.pth"),),
                ),
            ),
            marker="latest_net_adaattn_3.pth",
            # train_adaattn.sh
            training=Training(crop_multiple=16, lambdas=(("global", 10.0), ("local", 3.0))),
            licence="Apache-2.0 (Huage001/AdaAttN)",
            how_to_get="download AdaAttN_model.zip (Google Drive, linked from github.com/Huage001/AdaAttN) "
            "and run `stylize weights install AdaAttN_model.zip`, or `stylize weights fetch adaattn`",
        ),
        ModelSpec(
            name="adaattn-video",
            title="AdaAttN video model (Liu et al., ICCV 2021, inference_frame.py)",
            purpose="video",
            network="stylize.models.adaattn:AdaAttNVideoNet",
            folder="adaattn-video",
            official_folders=("attn_adain_video", "adaattn_video"),
            files=(
                WeightFile(
                    "latest_net_transformer.pth",
                    "transformer",
                    sources=(Source(VIDEO_ZIP, "attn_adain_video/latest_net_transformer.pth"),),
                ),
                WeightFile(
                    "latest_net_decoder.pth",
                    "decoder",
                    sources=(Source(VIDEO_ZIP, "attn_adain_video/latest_net_decoder.pth"),),
                ),
            ),
            marker=None,  # its two file names are shared with adaattn
            training=Training(
                crop_multiple=16, lambdas=(("global", 10.0), ("local", 3.0), ("temporal", 10.0)), ours=True
            ),
            licence="Apache-2.0 (Huage001/AdaAttN)",
            how_to_get="download the video package (Google Drive, linked from github.com/Huage001/AdaAttN) "
            "and run `stylize weights install PACKAGE.zip`, or `stylize weights fetch adaattn-video`",
        ),
        ModelSpec(
            name="stya2k",
            title="StyA2K (Zhu et al., ICCV 2023)",
            purpose="image",
            network="stylize.models.stya2k:StyA2KNet",
            folder="stya2k",
            official_folders=("checkpoints/A2K", "A2K"),
            files=(
                WeightFile(
                    "latest_net_A2K.pth",
                    "A2K",
                    digests=(
                        "sha256:0752d020344ed334ed63a5f671bdd93db71d7ad7f0d69e49074a3065ec2af7d1",
                        "gitblob:186476825d2490e1989ce69a5c8b42203ddbbff0",
                    ),
                    sources=(Source(STYA2K_RAW + "checkpoints/A2K/latest_net_A2K.pth"),),
                    size=2_111_249,
                ),
                WeightFile(
                    "latest_net_transform.pth",
                    "transform",
                    digests=("gitblob:128f013d28f6fec30b97fbd1d271452546dbd607",),
                    sources=(Source(STYA2K_RAW + "checkpoints/A2K/latest_net_transform.pth"),),
                ),
                WeightFile(
                    "latest_net_decoder.pth",
                    "decoder",
                    digests=("gitblob:6e30e08c74bd294c8cbd5e3dd486638328646259",),
                    sources=(Source(STYA2K_RAW + "checkpoints/A2K/latest_net_decoder.pth"),),
                ),
            ),
            marker="latest_net_A2K.pth",
            # train_A2K.sh; crops: 8 x 8 regions at relu4_1 and 4 x 4 at relu5_1, and the A2K loss's
            # 16 x 16 regions at relu2_1.
            training=Training(crop_multiple=64, lambdas=(("global", 10.0), ("a2k", 1.25)), global_layers=(0, 4)),
            licence="no licence published (LearningHx/StyA2K); use the files you downloaded yourself",
            how_to_get="clone github.com/LearningHx/StyA2K and run `stylize weights install StyA2K/`, "
            "or `stylize weights fetch stya2k`",
        ),
    )
}

# The model of each purpose when the user names none: the papers' image and video models (with only
# stylize's own weights installed, `weights.defaults.default_model` may pick another).
DEFAULT_MODELS = {"image": "adaattn", "video": "adaattn-video"}


def available_models() -> list[str]:
    """The model names `load_model` accepts."""
    return list(MODELS)


def get_spec(name: str) -> ModelSpec:
    """The spec of a model by name; raises ValueError naming the choices."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None


def known_file(digest: str) -> tuple[str, str] | None:
    """(model name, file name) of a released file with this digest, if any ("encoder" for the VGG)."""
    if digest in ENCODER.digests:
        return "encoder", ENCODER.filename
    for spec in MODELS.values():
        for wf in spec.files:
            if digest in wf.digests:
                return spec.name, wf.filename
    return None
