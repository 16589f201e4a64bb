"""Reading checkpoint files safely, telling what they are, and loading them strictly.

Files are read with `torch.load(weights_only=True)` only (a pickle that asks to run code is refused
before anything runs), compared with the registry's digests (a released file of another model or
role is refused), then loaded with strict key and shape checks that report what does not fit.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import zipfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from stylize.errors import WeightsError, reason
from stylize.weights.locate import FileRef, ModelFiles
from stylize.weights.registry import ENCODER, MODELS, ModelSpec, WeightFile, known_file

if TYPE_CHECKING:
    import torch

    from stylize.models.network import StyleNetwork

log = logging.getLogger(__name__)


def digests(source: bytes | FileRef, chunk: int = 1 << 20) -> tuple[str, str]:
    """("sha256:<hex>", "gitblob:<hex>") of a file's bytes, or of a file or zip member read in
    chunks (no need to hold it in memory).

    Raises:
        WeightsError: the file cannot be read.
    """
    if isinstance(source, bytes):
        return _hash(io.BytesIO(source), len(source), chunk)
    stream: IO[bytes]
    try:
        if source.member is None:
            size = source.path.stat().st_size
            stream = open(source.path, "rb")  # noqa: SIM115 (closed by _hash)
        else:
            archive = zipfile.ZipFile(source.path)
            size = archive.getinfo(source.member).file_size
            stream = archive.open(source.member)
        return _hash(stream, size, chunk)
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise WeightsError(f"{source.display}: cannot read ({reason(exc)})") from exc


def _hash(stream: IO[bytes], size: int, chunk: int) -> tuple[str, str]:
    sha256 = hashlib.sha256()
    blob = hashlib.sha1(b"blob %d\0" % size)  # what `git hash-object` hashes
    with stream:
        while block := stream.read(chunk):
            sha256.update(block)
            blob.update(block)
    return "sha256:" + sha256.hexdigest(), "gitblob:" + blob.hexdigest()


def read_state_dict(ref: FileRef) -> tuple[dict[str, torch.Tensor], tuple[str, str]]:
    """A checkpoint's tensors, loaded with `weights_only=True`, and the file's digests.

    Raises:
        WeightsError: empty, truncated, not a checkpoint, a pickle that tries to run code (refused
            before anything runs), or not a dict of tensors.
    """
    data = ref.read_bytes()
    return state_dict_from_bytes(data, ref.display), digests(data)


def state_dict_from_bytes(data: bytes, display: str) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint held in memory (see `read_state_dict`); errors name `display`."""
    import torch

    if not data:
        raise WeightsError(f"{display}: empty file (0 bytes)")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" in str(exc):
            raise WeightsError(
                f"{display}: refused: its pickle asks to run code ({_unsafe_global(exc)}); nothing was executed",
                hint="only load checkpoints from sources you trust; the released files hold tensors only",
            ) from exc
        raise WeightsError(f"{display}: not a PyTorch checkpoint ({reason(exc)})") from exc
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise WeightsError(f"{display}: truncated or not a PyTorch checkpoint ({reason(exc)})") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{display}: holds a {type(state).__name__}, not a dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def _unsafe_global(exc: Exception) -> str:
    text = str(exc)
    for line in text.splitlines():
        if "GLOBAL" in line or "Unsupported global" in line:
            return line.strip().rstrip(".")[:160]
    return "an unsupported global"


@dataclass(frozen=True)
class Verification:
    """How a file compares with the released one: "verified", "unknown" (no published digest) or "differs"."""

    status: str
    detail: str


def verify(wf: WeightFile, file_digests: tuple[str, ...]) -> Verification:
    """How a file with these digests compares with the released `wf`."""
    if any(d in wf.digests for d in file_digests):
        return Verification("verified", "matches the released file")
    if not wf.digests:
        return Verification("unknown", "no published digest to compare with")
    return Verification("differs", f"differs from the released file ({file_digests[0][:19]}…)")


def check_identity(spec: ModelSpec, wf: WeightFile, ref: FileRef, file_digests: tuple[str, ...]) -> Verification:
    """Refuse a released file of another model or role (a silent swap); report the rest."""
    for d in file_digests:
        owner = known_file(d)
        if owner is not None and owner != (spec.name if wf is not ENCODER else "encoder", wf.filename):
            model, filename = owner
            raise WeightsError(
                f"{ref.display}: this is {model}'s {filename}, not {spec.name}'s {wf.filename}",
                hint="keep each model's files in its own folder",
            )
    return verify(wf, file_digests)


def load_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], ref: FileRef, what: str) -> None:
    """`module.load_state_dict(state, strict=True)` with a one-line report of what does not fit."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    wrong = [f"{k} {found[k]} (expected {expected[k]})" for k in expected if k in found and found[k] != expected[k]]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append("missing " + _some(missing))
        if unexpected:
            parts.append("unexpected " + _some(unexpected))
        if wrong:
            parts.append("wrong shape " + _some(wrong))
        looks = describe_layout(found)
        tail = f"; it looks like {looks}" if looks else f"; it holds {len(found)} tensors"
        raise WeightsError(f"{ref.display}: not {what}: {'; '.join(parts)}{tail}")
    module.load_state_dict(state, strict=True)


def _some(items: list[str], shown: int = 3) -> str:
    more = f" (+{len(items) - shown} more)" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def describe_layout(found: dict[str, tuple[int, ...]]) -> str | None:
    """Which known checkpoint file has exactly these keys and shapes, in words."""
    matches = [label for label, layout in known_layouts().items() if layout == found]
    return " or ".join(matches) if matches else None


_LAYOUTS: dict[str, dict[str, tuple[int, ...]]] = {}


def known_layouts() -> dict[str, dict[str, tuple[int, ...]]]:
    """Keys and shapes of every file of every model (built once, on first use)."""
    if not _LAYOUTS:
        for spec in MODELS.values():
            net = spec.build()
            for wf in spec.all_files:
                label = "the VGG encoder (vgg_normalised.pth)" if wf is ENCODER else f"{spec.name}'s {wf.filename}"
                layout = {k: tuple(v.shape) for k, v in getattr(net, wf.module).state_dict().items()}
                _LAYOUTS.setdefault(label, layout)
    return _LAYOUTS


def check_file(
    spec: ModelSpec, wf: WeightFile, ref: FileRef, data: bytes, net: torch.nn.Module | None = None
) -> Verification:
    """Check one file's bytes as `spec`'s `wf`: safe read, not another model's file, strict load.

    Args:
        net: the network to load into (a fresh one of the model when None).

    Returns:
        How it compares with the released file.

    Raises:
        WeightsError: unreadable, unsafe, of another model or role, or keys and shapes that do not fit.
    """
    if net is None:
        net = spec.build()
    state = state_dict_from_bytes(data, ref.display)
    report = check_identity(spec, wf, ref, digests(data))
    what = "the VGG encoder vgg_normalised.pth" if wf is ENCODER else f"{spec.name}'s {wf.filename}"
    load_strict(getattr(net, wf.module), state, ref, what)
    return report


def load_network(files: ModelFiles) -> tuple[StyleNetwork, dict[str, Verification]]:
    """Build the model's network on the CPU and load every file strictly.

    Returns:
        The network in eval mode, and the verification of each file.
    """
    spec = files.spec
    net = spec.build()
    report = {}
    for wf in spec.all_files:
        ref = files.files[wf.filename]
        report[wf.filename] = check_file(spec, wf, ref, ref.read_bytes(), net)
        if report[wf.filename].status == "differs" and not files.bundled:
            log.warning("%s: %s", ref.display, report[wf.filename].detail)
    return net.eval(), report
