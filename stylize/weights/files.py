"""Finding, checking and safely loading checkpoint files.

A weights location is a folder (stylize's layout, an official checkout, or a plain folder holding
the files) or a zip (the official release, files nested anywhere). Files are read with
`torch.load(weights_only=True)` only, then loaded with strict key and shape checks.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from stylize.errors import WeightsError
from stylize.weights.registry import ENCODER, ENCODER_FOLDERS, MODELS, ModelSpec, WeightFile, known_file

if TYPE_CHECKING:
    import torch

    from stylize.models.network import StyleNetwork

log = logging.getLogger(__name__)

ENV_VAR = "STYLIZE_WEIGHTS"
# The file whose presence says "this folder is that model's" (the other names are shared).
MARKERS = {"adaattn": "latest_net_adaattn_3.pth", "stya2k": "latest_net_A2K.pth"}


@dataclass(frozen=True)
class FileRef:
    """A checkpoint file, on disk or inside a zip."""

    path: Path
    member: str | None = None

    @property
    def display(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    def read_bytes(self) -> bytes:
        try:
            if self.member is None:
                return self.path.read_bytes()
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(self.member)
        except (OSError, zipfile.BadZipFile, KeyError) as exc:
            raise WeightsError(f"{self.display}: cannot read ({_reason(exc)})") from exc


@dataclass(frozen=True)
class ModelFiles:
    """Where each file of a model was found.

    Attributes:
        spec: the model.
        files: official file name -> reference, the encoder included.
        location: the folder or zip they came from (shown to users).
        bundled: True for stylize's own trained weights rather than a paper's release.
    """

    spec: ModelSpec
    files: dict[str, FileRef]
    location: str
    bundled: bool = False


# --- where to look -------------------------------------------------------------------------


def checkout_weights() -> Path | None:
    """`weights/` of the source checkout this package runs from, if it runs from one."""
    root = Path(__file__).resolve().parents[2]
    return root / "weights" if (root / "setup.py").is_file() and (root / "weights").is_dir() else None


def user_weights() -> Path:
    """The per-user weights folder (where `stylize weights install` puts files by default)."""
    from platformdirs import user_data_path

    return user_data_path("stylize", appauthor=False) / "weights"


def search_locations(weights: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """(location, why it is searched) in order: --weights, else $STYLIZE_WEIGHTS, else the
    checkout's weights/, else the user data folder."""
    if weights is not None:
        return [(Path(weights).expanduser(), "--weights")]
    env = os.environ.get(ENV_VAR)
    if env:
        return [(Path(env).expanduser(), f"${ENV_VAR}")]
    found = []
    checkout = checkout_weights()
    if checkout is not None:
        found.append((checkout, "checkout weights/"))
    found.append((user_weights(), "user data folder"))
    return found


def install_target(weights: str | os.PathLike[str] | None = None) -> Path:
    """The folder `stylize weights install/fetch` writes to."""
    if weights is not None:
        return Path(weights).expanduser()
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else user_weights()


# --- finding a model's files ---------------------------------------------------------------


def find_files(spec: ModelSpec, location: Path) -> ModelFiles:
    """The model's files in a folder or zip; raises WeightsError naming what is missing."""
    return _complete(locate_files(spec, location))


def locate_files(spec: ModelSpec, location: Path) -> ModelFiles:
    """Those of the model's files a folder or zip holds (some may be missing, e.g. the encoder).

    Raises:
        WeightsError: the location does not exist, is neither a folder nor a zip, or holds none
            of the model's own files.
    """
    if not location.exists():
        raise WeightsError(f"{location}: no such file or folder")
    if location.is_file():
        if not zipfile.is_zipfile(location):
            raise WeightsError(f"{location}: not a folder or a zip archive")
        return _find_in_zip(spec, location)
    return _find_in_folder(spec, location)


def _model_dir_candidates(spec: ModelSpec) -> list[str]:
    return [spec.folder, *spec.official_folders]


def _find_in_folder(spec: ModelSpec, root: Path) -> ModelFiles:
    names = [wf.filename for wf in spec.files]
    model_dir = None
    for sub in _model_dir_candidates(spec):
        if any((root / sub / n).is_file() for n in names):
            model_dir = root / sub
            break
    if model_dir is None and _plain_folder_is(spec, {p.name for p in root.iterdir() if p.is_file()}, root):
        model_dir = root
    if model_dir is None:
        raise WeightsError(
            f"{root}: no {spec.name} files (looked for {', '.join(names)} in "
            f"{', '.join(s + '/' for s in _model_dir_candidates(spec))} and the folder itself)",
            hint=spec.how_to_get,
        )
    files = {n: FileRef(model_dir / n) for n in names if (model_dir / n).is_file()}
    # An official video checkout keeps the encoder beside its model folder, so look one level up too.
    for folder in (*(root / sub for sub in ENCODER_FOLDERS), model_dir, *(root.parent / s for s in ENCODER_FOLDERS)):
        if (folder / ENCODER.filename).is_file():
            files[ENCODER.filename] = FileRef(folder / ENCODER.filename)
            break
    return ModelFiles(spec, files, str(root))


def _plain_folder_is(spec: ModelSpec, present: set[str], where: Path | str) -> bool:
    """Whether a folder holding `present` file names is this model's (refusing ambiguous ones)."""
    markers = {name for name, marker in MARKERS.items() if marker in present}
    if len(markers) > 1:
        raise WeightsError(
            f"{where}: holds files of both {' and '.join(sorted(markers))}; their decoders have the same "
            "name and shape and cannot be told apart",
            hint="keep each model's files in its own folder (stylize weights install does this)",
        )
    if spec.name in MARKERS:
        return spec.name in markers
    # The video model has no distinctive file name: a folder of its two files and no marker.
    return not markers and all(wf.filename in present for wf in spec.files)


def _find_in_zip(spec: ModelSpec, archive: Path) -> ModelFiles:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist() if not m.endswith("/")]
    except (OSError, zipfile.BadZipFile) as exc:
        raise WeightsError(f"{archive}: cannot read the zip ({_reason(exc)})") from exc
    by_dir: dict[str, set[str]] = {}
    for member in members:
        path = PurePosixPath(member)
        by_dir.setdefault(str(path.parent), set()).add(path.name)
    wanted = [wf.filename for wf in spec.files]
    candidates = [d for d, names in by_dir.items() if any(n in names for n in wanted)]
    names = {PurePosixPath(s).name for s in _model_dir_candidates(spec)}
    preferred = [d for d in candidates if PurePosixPath(d).name in names]
    chosen = None
    for d in preferred or candidates:
        if d in preferred or _plain_folder_is(spec, by_dir[d], f"{archive}:{d}"):
            chosen = d
            break
    if chosen is None:
        raise WeightsError(
            f"{archive}: no {spec.name} files inside (looked for {', '.join(wanted)})", hint=spec.how_to_get
        )
    prefix = "" if chosen == "." else chosen + "/"
    files = {n: FileRef(archive, prefix + n) for n in wanted if n in by_dir[chosen]}
    encoders = sorted(m for m in members if PurePosixPath(m).name == ENCODER.filename)
    if encoders:
        files[ENCODER.filename] = FileRef(archive, encoders[0])
    return ModelFiles(spec, files, str(archive))


def missing_files(found: ModelFiles) -> list[str]:
    """The names of the model's files (encoder included) that `found` lacks."""
    return [wf.filename for wf in found.spec.all_files if wf.filename not in found.files]


def _complete(found: ModelFiles) -> ModelFiles:
    missing = missing_files(found)
    if missing:
        raise WeightsError(
            f"{found.location}: {found.spec.name} is missing {', '.join(missing)}", hint=found.spec.how_to_get
        )
    return found


def resolve(spec: ModelSpec, weights: str | os.PathLike[str] | None = None) -> ModelFiles:
    """The files to load for a model: from `weights` if given, else the first search location that
    has them all, else stylize's own trained weights (when it ships them for this model)."""
    locations = search_locations(weights)
    errors = []
    for location, why in locations:
        if weights is None and not location.exists():
            errors.append(f"{why} {location} (absent)")
            continue
        try:
            return find_files(spec, location)
        except WeightsError as exc:
            if weights is not None:
                raise
            errors.append(f"{why} {location} ({exc.message.split(': ', 1)[-1]})")
    from stylize.weights.bundled import bundled_files

    bundled = bundled_files(spec)
    if bundled is not None:
        return bundled
    files = ", ".join(wf.filename for wf in spec.all_files)
    raise WeightsError(
        f"no weights for {spec.name}: it needs {files}; searched {'; '.join(errors)}",
        hint=spec.how_to_get,
    )


# --- reading safely ------------------------------------------------------------------------


def digests(data: bytes) -> tuple[str, str]:
    """("sha256:<hex>", "gitblob:<hex>") of a file's bytes."""
    blob = hashlib.sha1(b"blob %d\0" % len(data))
    blob.update(data)
    return "sha256:" + hashlib.sha256(data).hexdigest(), "gitblob:" + blob.hexdigest()


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
        raise WeightsError(f"{display}: not a PyTorch checkpoint ({_reason(exc)})") from exc
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise WeightsError(f"{display}: truncated or not a PyTorch checkpoint ({_reason(exc)})") from exc
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


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# --- checking identity and loading strictly ------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """How a file compares with the released one: "verified", "unknown" (no published digest) or "differs"."""

    status: str
    detail: str


def verify(wf: WeightFile, file_digests: tuple[str, ...]) -> Verification:
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
        from stylize.models import NETWORKS

        for spec in MODELS.values():
            net = NETWORKS[spec.name]()
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
        from stylize.models import NETWORKS

        net = NETWORKS[spec.name]()
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
    from stylize.models import NETWORKS

    spec = files.spec
    net = NETWORKS[spec.name]()
    report = {}
    for wf in spec.all_files:
        ref = files.files[wf.filename]
        report[wf.filename] = check_file(spec, wf, ref, ref.read_bytes(), net)
        if report[wf.filename].status == "differs" and not files.bundled:
            log.warning("%s: %s", ref.display, report[wf.filename].detail)
    return net.eval(), report


# --- reporting and archives ----------------------------------------------------------------


def hash_ref(ref: FileRef, chunk: int = 1 << 20) -> tuple[str, str]:
    """`digests()` of a file or zip member, read in chunks (no need to hold it in memory)."""
    sha256 = hashlib.sha256()
    stream: IO[bytes]
    try:
        if ref.member is None:
            size = ref.path.stat().st_size
            stream = open(ref.path, "rb")  # noqa: SIM115 (closed below)
        else:
            archive = zipfile.ZipFile(ref.path)
            size = archive.getinfo(ref.member).file_size
            stream = archive.open(ref.member)
        blob = hashlib.sha1(b"blob %d\0" % size)
        with stream:
            while block := stream.read(chunk):
                sha256.update(block)
                blob.update(block)
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise WeightsError(f"{ref.display}: cannot read ({_reason(exc)})") from exc
    return "sha256:" + sha256.hexdigest(), "gitblob:" + blob.hexdigest()


@dataclass(frozen=True)
class Searched:
    """One place searched for a model's files.

    Attributes:
        location: the folder or zip.
        why: why it is searched ("--weights", "$STYLIZE_WEIGHTS", "checkout weights/", "user data folder").
        found: the model's files found there (possibly incomplete), or None.
        problem: why nothing usable is there ("absent", or the error), or None when complete.
    """

    location: Path
    why: str
    found: ModelFiles | None
    problem: str | None

    @property
    def complete(self) -> bool:
        return self.found is not None and self.problem is None


def survey(spec: ModelSpec, weights: str | os.PathLike[str] | None = None) -> list[Searched]:
    """Every search location with what it holds of the model (what `stylize weights list` shows)."""
    result = []
    for location, why in search_locations(weights):
        if not location.exists():
            result.append(Searched(location, why, None, "absent"))
            continue
        try:
            found = locate_files(spec, location)
        except WeightsError as exc:
            result.append(Searched(location, why, None, exc.message.split(": ", 1)[-1]))
            continue
        missing = missing_files(found)
        result.append(Searched(location, why, found, f"missing {', '.join(missing)}" if missing else None))
    return result


def check_archive(archive: Path) -> None:
    """Refuse a zip with an entry that would land outside the folder it is extracted into.

    Absolute names, `..` components, drive letters and symbolic links are refused (zip-slip), for
    the whole archive, before anything is read from it.

    Raises:
        WeightsError: naming the archive and the entry.
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise WeightsError(f"{archive}: cannot read the zip ({_reason(exc)})") from exc
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]) or is_link:
            what = "is a symbolic link" if is_link else "would land outside the weights folder"
            raise WeightsError(
                f"{archive}: entry {info.filename!r} {what}; refusing the whole archive",
                hint="this is not an official release; get the files from their public source",
            )
