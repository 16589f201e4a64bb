"""Installing checkpoints into a weights folder, checked before they are written.

The weights folder has stylize's layout: the shared encoder at the top, each model's files in
its own sub-folder (the AdaAttN and StyA2K decoders have the same file name):

    WEIGHTS/vgg_normalised.pth
    WEIGHTS/adaattn/latest_net_{adaattn_3,transformer,decoder}.pth
    WEIGHTS/adaattn-video/latest_net_{transformer,decoder}.pth
    WEIGHTS/stya2k/latest_net_{A2K,transform,decoder}.pth
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stylize.errors import WeightsError
from stylize.media.atomic import write_bytes_atomic
from stylize.weights.checkpoint import Verification, check_file
from stylize.weights.locate import FileRef, check_archive, locate_files
from stylize.weights.registry import ENCODER, MODELS, ModelSpec, WeightFile, get_spec


@dataclass(frozen=True)
class Placed:
    """A file written into the weights folder.

    Attributes:
        model: the model it belongs to ("encoder" for the shared VGG).
        filename: its official name.
        destination: where it now is.
        source: where it came from (shown to users).
        verification: how it compares with the released file.
    """

    model: str
    filename: str
    destination: Path
    source: str
    verification: Verification


def destination(target: Path, spec: ModelSpec, wf: WeightFile) -> Path:
    """Where `wf` of `spec` goes in a weights folder."""
    return target / wf.filename if wf is ENCODER else target / spec.folder / wf.filename


def place(  # type: ignore[no-untyped-def]
    spec: ModelSpec, wf: WeightFile, ref: FileRef, data: bytes, target: Path, net=None, released_only: bool = False
) -> Placed:
    """Check `data` as `spec`'s `wf` (safe read, identity, strict load), then write it atomically.

    Args:
        released_only: refuse a file that differs from the released one (downloads).

    Raises:
        WeightsError: the file is not what it should be; nothing is written.
        OutputError: the weights folder cannot be written.
    """
    verification = check_file(spec, wf, ref, data, net)
    if released_only and verification.status == "differs":
        raise WeightsError(f"{ref.display}: {verification.detail}; not installed")
    dst = destination(target, spec, wf)
    write_bytes_atomic(dst, data)
    return Placed("encoder" if wf is ENCODER else spec.name, wf.filename, dst, ref.display, verification)


def install(source: Path, target: Path, models: Sequence[str] | None = None) -> list[Placed]:
    """Copy the checkpoints a release holds into `target`, each checked first.

    Args:
        source: an official checkout or release folder, a folder of the files, the official zip,
            or the encoder file `vgg_normalised.pth` itself.
        target: the weights folder.
        models: only these models (default: every model found in `source`).

    Returns:
        The files written (a model whose files are only partly in `source` gets those it has).

    Raises:
        WeightsError: nothing installable in `source`, a zip entry that would land outside the
            folder (zip-slip), or a file that is not what its name says.
    """
    if not source.exists():
        raise WeightsError(f"{source}: no such file or folder")
    specs = [get_spec(name) for name in models] if models else list(MODELS.values())
    # A .pth file is a zip too (PyTorch's format): only other zips are archives.
    if source.is_file() and (source.suffix == ".pth" or not zipfile.is_zipfile(source)):
        if source.name != ENCODER.filename:
            raise WeightsError(
                f"{source}: not a folder or a zip archive",
                hint="give the folder or the zip that holds the checkpoints (only the encoder "
                f"{ENCODER.filename} can be installed on its own)",
            )
        ref = FileRef(source)
        return [place(specs[0], ENCODER, ref, ref.read_bytes(), target)]
    if source.is_file():
        check_archive(source)
    placed: list[Placed] = []
    problems: list[str] = []
    for spec in specs:
        try:
            found = locate_files(spec, source)
        except WeightsError as exc:
            if models:
                raise
            problems.append(exc.message)
            continue
        net = spec.build()
        for wf in spec.all_files:
            part = found.files.get(wf.filename)
            if part is None or (wf is ENCODER and any(p.model == "encoder" for p in placed)):
                continue
            placed.append(place(spec, wf, part, part.read_bytes(), target, net))
    if not placed:
        # A specific reason (e.g. files of two models mixed in one folder) beats "nothing found".
        special = [p for p in problems if not p.split(": ", 1)[-1].startswith("no ")]
        if special:
            raise WeightsError(special[0])
        wanted = sorted({wf.filename for spec in specs for wf in spec.files})
        raise WeightsError(
            f"{source}: no checkpoints of any model found (looked for {', '.join(wanted)})",
            hint="give an official release: AdaAttN_model.zip, the AdaAttN video package, or a StyA2K checkout",
        )
    return placed
