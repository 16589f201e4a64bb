"""Planning a batch: which files go in, which files come out. Pure: no torch, no image decoding.

    inputs (files, folders, paths read from stdin) x styles -> jobs, each with its output path

Output paths come from a template (default `{content}__{style}.{ext}`) under the output folder,
mirroring the sub-folders of a scanned folder. Problems with single inputs (a missing file) are
collected, not raised, so the rest of the run goes on; problems with the whole plan (a bad
template, two jobs writing the same file, no styles) raise `SetupError` before anything runs.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from stylize.errors import SetupError
from stylize.media.formats import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, WRITABLE, kind_of, output_format

DEFAULT_TEMPLATE = "{content}__{style}.{ext}"
TEMPLATE_FIELDS = {
    "content": "the content's file name without its extension",
    "name": "the content's file name with its extension",
    "style": "the style's file name without its extension (several mixed styles: joined with '+')",
    "ext": "the output extension: the content's when stylize writes it (else png), or --format",
    "model": "the model's name",
}
PAIRINGS = ("all", "zip")
MIX_SEPARATOR = "+"


@dataclass(frozen=True)
class InputFile:
    """A content file and where its output goes.

    Attributes:
        path: the file as given or found.
        relative: its place under the output folder (the sub-folders of a scanned folder are kept).
        kind: "image" or "video", by extension.
    """

    path: Path
    relative: PurePath
    kind: str


@dataclass(frozen=True)
class Problem:
    """An input that cannot be used; it counts as a failed input."""

    path: str
    message: str


@dataclass(frozen=True)
class Job:
    """One output: a content with one style (or several mixed), written to `output`.

    Attributes:
        content: the content file.
        styles: the style file, or the styles mixed into this one output.
        output: where the result goes.
        skip: the output exists and --skip-existing was given: nothing to do.
    """

    content: InputFile
    styles: tuple[Path, ...]
    output: Path
    skip: bool = False

    @property
    def kind(self) -> str:
        return self.content.kind

    @property
    def style_name(self) -> str:
        return MIX_SEPARATOR.join(s.stem for s in self.styles)


@dataclass(frozen=True)
class Naming:
    """How contents and styles become jobs, and the jobs' output names.

    Attributes:
        template: the output name under the output folder (fields: `TEMPLATE_FIELDS`).
        pair: "all" (every content with every style) or "zip" (the i-th content with the i-th style).
        mix: every style mixed into one output per content (--style-weights, --mask).
        fmt: the output image format for {ext} ("png", "jpg", "webp", "tiff"); None keeps the content's.
        model: the model's name, for {model}.
        skip_existing: mark jobs whose output file exists as skipped.
    """

    template: str = DEFAULT_TEMPLATE
    pair: str = "all"
    mix: bool = False
    fmt: str | None = None
    model: str = "adaattn"
    skip_existing: bool = False


@dataclass(frozen=True)
class Plan:
    """Everything a batch will do.

    Attributes:
        jobs: in order, grouped by content (each content is decoded once for all its styles).
        problems: inputs that cannot be used (each one a failure of the run).
        notes: things worth telling the user (a folder without images, sub-folders not scanned).
    """

    jobs: tuple[Job, ...]
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def todo(self) -> list[Job]:
        return [job for job in self.jobs if not job.skip]


# --- inputs --------------------------------------------------------------------------------


def parse_extensions(text: str | None) -> frozenset[str]:
    """ "png,JPG" -> {".png", ".jpg"}; None -> every image and video extension stylize knows."""
    if not text:
        return IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
    found = {"." + part.strip().lower().lstrip(".") for part in text.split(",") if part.strip()}
    if not found:
        raise SetupError(f"--ext {text!r}: no extensions given (e.g. --ext png,jpg)")
    return frozenset(found)


def collect_inputs(
    inputs: Sequence[str],
    *,
    recursive: bool = False,
    extensions: frozenset[str] | None = None,
    stdin_paths: Iterable[str] = (),
    out_dir: Path | None = None,
) -> tuple[list[InputFile], list[Problem], list[str]]:
    """The content files named by `inputs`, in order, each once.

    Args:
        inputs: files, folders, or "-" for the paths in `stdin_paths`.
        recursive: scan sub-folders of folders too (their structure is mirrored in the output).
        extensions: what a folder scan picks up (files named explicitly are always taken).
        stdin_paths: the paths read from standard input, for "-". A relative path keeps its folders
            under the output folder (as `find` prints them); an absolute one goes to its top.
        out_dir: the output folder; a scan does not descend into it (no stylising of outputs).

    Returns:
        (files, problems, notes).
    """
    extensions = extensions if extensions is not None else parse_extensions(None)
    files: list[InputFile] = []
    problems: list[Problem] = []
    notes: list[str] = []
    seen: set[str] = set()

    def add(path: Path, relative: PurePath) -> None:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            files.append(InputFile(path, relative, kind_of(path)))

    for argument in inputs:
        if argument == "-":
            for line in stdin_paths:
                if line:
                    add(Path(line), _mirrored(line))
            continue
        path = Path(argument)
        if path.is_dir():
            found, skipped_dirs = _scan(path, recursive, extensions, out_dir)
            for file in found:
                add(file, file.relative_to(path))
            if not found:
                notes.append(f"{path}: no files with the extensions {_show(extensions)}")
            if skipped_dirs:
                notes.append(f"{path}: {skipped_dirs} sub-folder(s) not scanned (use --recursive)")
        elif path.exists():
            add(path, PurePath(path.name))
        else:
            problems.append(Problem(argument, "no such file or folder"))
    return files, problems, notes


def _mirrored(line: str) -> PurePath:
    path = PurePath(line)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return PurePath(path.name)
    return path


def _scan(folder: Path, recursive: bool, extensions: frozenset[str], out_dir: Path | None) -> tuple[list[Path], int]:
    """Files of a folder with the extensions (sorted, hidden files and the output folder left out)."""
    skip = os.path.normcase(os.path.abspath(out_dir)) if out_dir is not None else None
    found: list[Path] = []
    skipped_dirs = 0
    for root, dirs, names in os.walk(folder):
        kept = []
        for d in sorted(dirs):
            if d.startswith(".") or os.path.normcase(os.path.abspath(os.path.join(root, d))) == skip:
                continue
            kept.append(d)
        if not recursive:
            skipped_dirs += len(kept)
            kept = []
        dirs[:] = kept
        for name in sorted(names):
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in extensions:
                found.append(Path(root) / name)
    return sorted(found, key=lambda p: p.relative_to(folder).parts), skipped_dirs


def _show(extensions: frozenset[str]) -> str:
    return ",".join(sorted(e.lstrip(".") for e in extensions))


def expand_images(arguments: Sequence[str | os.PathLike[str]], what: str = "style") -> list[Path]:
    """Image files as given, folders expanded to their images (sorted, not recursive).

    Args:
        arguments: files and folders from the command line.
        what: what they are, for messages ("style", "content").

    Raises:
        SetupError: a path that does not exist, or a folder without images.
    """
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            images, _ = _scan(path, False, IMAGE_EXTENSIONS, None)
            if not images:
                raise SetupError(
                    f"{path}: {what} folder holds no images ({_show(IMAGE_EXTENSIONS)})",
                    hint=f"give {what} image files or a folder that holds some",
                )
            found.extend(images)
        elif path.exists():
            found.append(path)
        else:
            raise SetupError(f"{path}: no such {what} file or folder")
    return found


# --- outputs -------------------------------------------------------------------------------


def check_template(template: str) -> None:
    """Raise SetupError for a template with unknown fields or one that leaves the output folder."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise SetupError(f"--template {template!r}: {exc}") from None
    unknown = [f for f in fields if f not in TEMPLATE_FIELDS]
    if unknown:
        raise SetupError(
            f"--template {template!r}: unknown field {{{unknown[0]}}}; use "
            + ", ".join(f"{{{f}}}" for f in TEMPLATE_FIELDS)
        )
    if "content" not in fields and "name" not in fields:
        raise SetupError(f"--template {template!r}: must contain {{content}} or {{name}}, or every output has one name")
    probe = PurePath(template)
    if probe.is_absolute() or ".." in probe.parts:
        raise SetupError(f"--template {template!r}: must name a path inside the output folder")


def output_extension(content: InputFile, fmt: str | None) -> str:
    """{ext}: a video keeps its container; an image keeps its extension when stylize writes it, else png."""
    suffix = content.path.suffix.lower()
    if content.kind == "video":
        return suffix.lstrip(".")
    if fmt:
        return fmt.lower().lstrip(".")
    return suffix.lstrip(".") if suffix in WRITABLE else "png"


def plan_jobs(
    contents: Sequence[InputFile], styles: Sequence[Path], out_dir: Path, naming: Naming = Naming()
) -> list[Job]:
    """Jobs for contents x styles (see `Naming`), grouped by content.

    Raises:
        SetupError: a bad template or pairing, an unwritable image extension, two jobs with the
            same output, or an output that would overwrite an input.
    """
    template, pair, fmt = naming.template, naming.pair, naming.fmt
    check_template(template)
    if pair not in PAIRINGS:
        raise SetupError(f"--pair {pair!r}: choose one of {', '.join(PAIRINGS)}")
    if not styles:
        raise SetupError("no style given")
    if naming.mix:
        if pair == "zip":
            raise SetupError("--pair zip gives each content one style; it cannot mix styles (--style-weights, --mask)")
        pairs = [(c, tuple(styles)) for c in contents]
    elif pair == "zip":
        if contents and len(contents) != len(styles):
            raise SetupError(
                f"--pair zip needs as many styles as contents: {len(contents)} contents, {len(styles)} styles"
            )
        pairs = [(c, (s,)) for c, s in zip(contents, styles, strict=False)]
    else:
        pairs = [(c, (s,)) for c in contents for s in styles]
    if fmt is not None and "." + fmt.lower().lstrip(".") not in WRITABLE:
        raise SetupError(f"--format {fmt!r}: choose one of png, jpg, webp, tiff")

    jobs = []
    for content, job_styles in pairs:
        name = template.format(
            content=content.path.stem,
            name=content.path.name,
            style=MIX_SEPARATOR.join(s.stem for s in job_styles),
            ext=output_extension(content, fmt),
            model=naming.model,
        )
        output = out_dir / content.relative.parent / name
        if content.kind == "image":
            output_format(output)  # raises for an extension stylize cannot write
        jobs.append(Job(content, job_styles, output, skip=naming.skip_existing and output.is_file()))
    _check_collisions(jobs, styles)
    return jobs


def _check_collisions(jobs: Sequence[Job], styles: Sequence[Path]) -> None:
    by_output: dict[str, list[Job]] = {}
    for job in jobs:
        by_output.setdefault(os.path.normcase(os.path.abspath(job.output)), []).append(job)
    for same in by_output.values():
        if len(same) > 1:
            sources = " and ".join(f"{j.content.path} + {j.style_name}" for j in same[:2])
            more = f" (+{len(same) - 2} more)" if len(same) > 2 else ""
            raise SetupError(
                f"{same[0].output}: {len(same)} outputs would get this name ({sources}{more})",
                hint="use a --template that tells them apart, e.g. with {name} (the content's file name "
                "with its extension), or keep sub-folders with a folder input and --recursive",
            )
    inputs = {os.path.normcase(os.path.abspath(p)) for p in (*styles, *(j.content.path for j in jobs))}
    for key, same in by_output.items():
        if key in inputs:
            raise SetupError(f"{same[0].output}: the output would overwrite an input; choose another -o or --template")


def plan(
    inputs: Sequence[str],
    styles: Sequence[Path],
    out_dir: str | os.PathLike[str],
    naming: Naming = Naming(),
    *,
    recursive: bool = False,
    extensions: str | None = None,
    stdin_paths: Iterable[str] = (),
) -> Plan:
    """The whole batch: collect the inputs, name the outputs (see `collect_inputs`, `plan_jobs`).

    Args:
        styles: the style files (`expand_images` expands folders).
    """
    out = Path(out_dir)
    contents, problems, notes = collect_inputs(
        inputs, recursive=recursive, extensions=parse_extensions(extensions), stdin_paths=stdin_paths, out_dir=out
    )
    return Plan(tuple(plan_jobs(contents, styles, out, naming)), tuple(problems), tuple(notes))
