"""Shared fixtures: the random-weight checkpoints in the official layouts, small images, models."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

DATA = Path(__file__).parent / "data"
PARITY = DATA / "parity"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def one_torch_thread():
    """Frames of 64x48 are too small for two threads to pay off: under load they cost 5-10x more."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def parity_weights() -> Path:
    """A folder with the random-weight checkpoints of `tests/data/parity/make_checkpoints.py`:
    vgg_normalised.pth, adaattn/, adaattn_video/, stya2k/ (official file names and keys).

    Built once and kept in .cache/ (about 190 MB), keyed by the script's hash.
    """
    script = PARITY / "make_checkpoints.py"
    key = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    folder = ROOT / ".cache" / f"parity-weights-{key}"
    if not (folder / "stya2k" / "latest_net_decoder.pth").is_file():
        subprocess.run([sys.executable, str(script), str(folder)], check=True, capture_output=True)
    return folder


@pytest.fixture(scope="session")
def adaattn(parity_weights: Path):
    import stylize

    return stylize.load_model("adaattn", weights=parity_weights, device="cpu")


@pytest.fixture(scope="session")
def stya2k(parity_weights: Path):
    import stylize

    return stylize.load_model("stya2k", weights=parity_weights, device="cpu")


@pytest.fixture(scope="session")
def adaattn_video(parity_weights: Path):
    import stylize

    return stylize.load_model("adaattn-video", weights=parity_weights / "adaattn_video", device="cpu")


def parity_input(name: str) -> torch.Tensor:
    """A parity input PNG as (1, 3, H, W) float32 in [0, 1]."""
    array = np.asarray(Image.open(PARITY / "inputs" / name).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()


def smooth_image(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """A deterministic smooth colour image (1, 3, H, W) in [0, 1] (low-frequency noise, upsampled)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, max(2, height // 16), max(2, width // 16), generator=g)
    return torch.nn.functional.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)
