"""Which content-style(-output) triples a quality measurement covers. Pure planning: no torch, no images."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from stylize.errors import InputError


@dataclass(frozen=True)
class Triple:
    """One measurement: an output compared with its content and its style.

    Attributes:
        content: the content image.
        style: the style image.
        output: the stylised image; None when the command makes it (a model, or the content itself).
    """

    content: Path
    style: Path
    output: Path | None = None


def cross(contents: list[Path], styles: list[Path]) -> list[Triple]:
    """Every content with every style (contents outer), outputs still to be made."""
    return [Triple(c, s) for c in contents for s in styles]


def read_triples(path: str | os.PathLike[str]) -> list[Triple]:
    """Triples from a file; relative paths are taken from the file's folder.

    Formats: JSON (a list of {"content", "style", "output"} objects), or text with one triple a
    line, `content,style,output` (CSV) or tab-separated; blank lines and lines starting with # are
    skipped, as is a header line `content,style,output`.

    Raises:
        InputError: unreadable file, a line without three fields, or no triples.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(source, f"cannot read ({exc.strerror or exc})") from None
    base = source.parent
    rows: list[tuple[int, list[str]]] = []
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(source, f"not valid JSON ({exc.msg}, line {exc.lineno})") from None
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict) or not all(k in item for k in ("content", "style", "output")):
                raise InputError(source, f'item {number}: needs "content", "style" and "output"')
            rows.append((number, [str(item["content"]), str(item["style"]), str(item["output"])]))
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.split("\t") if "\t" in line else next(csv.reader([line]))
            fields = [f.strip() for f in fields]
            if [f.lower() for f in fields] == ["content", "style", "output"]:
                continue
            if len(fields) != 3 or not all(fields):
                raise InputError(source, f"line {number}: expected content,style,output, got {line.strip()!r}")
            rows.append((number, fields))
    if not rows:
        raise InputError(source, "no triples in the file", hint="one `content,style,output` a line")
    return [Triple(*(_resolve(base, f) for f in fields)) for _, fields in rows]


def _resolve(base: Path, field: str) -> Path:
    path = Path(field).expanduser()
    return path if path.is_absolute() else base / path
