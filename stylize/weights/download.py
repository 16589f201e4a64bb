"""`stylize weights fetch`: download a model's official files from their public locations.

Each file is downloaded over HTTP(S) into `WEIGHTS/.downloads/` as a `.part` file; an interrupted
download resumes from where it stopped (an HTTP Range request). A file is checked against the
registry's digests (sha256 or git blob id) and loaded strictly before it is put in place; a file
that comes inside an archive (the AdaAttN zips on Google Drive) is taken out by its member name.

$STYLIZE_WEIGHTS_MIRROR replaces the scheme and host of every address: with
`STYLIZE_WEIGHTS_MIRROR=http://mirror.local/stylize`, `https://github.com/a/b.pth` is fetched from
`http://mirror.local/stylize/github.com/a/b.pth` (an internal mirror; the tests' local server).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from stylize._version import __version__
from stylize.errors import WeightsError, reason
from stylize.weights.checkpoint import digests, verify
from stylize.weights.install import Placed, destination, place
from stylize.weights.locate import FileRef, check_archive
from stylize.weights.registry import ModelSpec, Source, WeightFile

MIRROR_ENV = "STYLIZE_WEIGHTS_MIRROR"
DOWNLOADS = ".downloads"
CHUNK = 1 << 20
TIMEOUT = 30.0


@dataclass(frozen=True)
class DownloadProgress:
    """Callbacks for a progress display (all optional).

    start(label, total_bytes_or_None, already_have) when a download starts; advance(n_bytes);
    finish() when it ends (also on failure).
    """

    start: Callable[[str, int | None, int], None] = lambda label, total, have: None
    advance: Callable[[int], None] = lambda n: None
    finish: Callable[[], None] = lambda: None


def mirrored(url: str, mirror: str | None = None) -> str:
    """`url` on the mirror ($STYLIZE_WEIGHTS_MIRROR when `mirror` is None), or as is without one."""
    mirror = os.environ.get(MIRROR_ENV) if mirror is None else mirror
    if not mirror:
        return url
    parts = urlsplit(url)
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def download(url: str, part: Path, progress: DownloadProgress | None = None, timeout: float = TIMEOUT) -> Path:
    """Download `url` into `part`, resuming from the bytes it already holds.

    Returns:
        `part`, complete.

    Raises:
        WeightsError: no network, an HTTP error, a web page instead of a file, or an interrupted
            transfer (what arrived is kept, so running again resumes).
    """
    progress = progress or DownloadProgress()
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": f"stylize/{__version__}"}
    if have:
        headers["Range"] = f"bytes={have}-"
    host = urlsplit(url).netloc
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # asked for bytes past the end: the part is already whole
            return part
        raise WeightsError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise _network_error(host, exc) from exc
    with response:
        length = response.headers.get("Content-Length")
        if response.status == 206:
            total = have + int(length) if length else None
            mode = "ab"
        else:  # the server ignored the range: start again
            have, mode = 0, "wb"
            total = int(length) if length else None
        if response.headers.get_content_type() == "text/html":
            raise WeightsError(
                f"{url}: the server sent a web page, not the file (a quota, sign-in or virus-scan page?)",
                hint="download it in a browser and run `stylize weights install FILE`",
            )
        progress.start(part.name.removesuffix(".part"), total, have)
        try:
            with open(part, mode) as out:
                while block := response.read(CHUNK):
                    out.write(block)
                    progress.advance(len(block))
        except (OSError, http.client.HTTPException) as exc:
            raise WeightsError(
                f"{url}: download interrupted ({_describe(exc)}); run the same command again to resume"
            ) from exc
        finally:
            progress.finish()
    size = part.stat().st_size
    if total is not None and size < total:
        raise WeightsError(
            f"{url}: download interrupted at {size} of {total} bytes; run the same command again to resume"
        )
    return part


def _network_error(host: str, exc: BaseException) -> WeightsError:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        what = "no network (cannot resolve the host name)"
    elif isinstance(reason, (TimeoutError, socket.timeout)):
        what = "no answer (timed out); no network?"
    elif isinstance(reason, ConnectionRefusedError):
        what = "connection refused"
    else:
        what = _describe(reason)
    return WeightsError(
        f"cannot reach {host}: {what}",
        hint="check the connection, or download the files elsewhere and run `stylize weights install PATH`",
    )


def _describe(exc: object) -> str:
    """urllib's reasons are exceptions or plain strings."""
    return reason(exc) if isinstance(exc, BaseException) else str(exc)


def _part_name(source: Source, wf: WeightFile) -> str:
    if source.member is None:
        return wf.filename + ".part"
    return "archive-" + hashlib.sha1(source.url.encode()).hexdigest()[:12] + ".zip.part"


def _member(archive: Path, name: str) -> str:
    """The archive member called `name`, at any depth."""
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if not m.endswith("/")]
    for member in sorted(members, key=len):
        if member == name or member.endswith("/" + name):
            return member
    basename = PurePosixPath(name).name
    matches = [m for m in members if PurePosixPath(m).name == basename]
    if len(matches) == 1:
        return matches[0]
    raise WeightsError(f"{archive}: the archive holds no {name}")


def present(spec: ModelSpec, wf: WeightFile, target: Path) -> bool:
    """Whether `target` already holds the released file (verified; or present, for files with no digest)."""
    dst = destination(target, spec, wf)
    if not dst.is_file():
        return False
    return not wf.digests or verify(wf, digests(FileRef(dst))).status == "verified"


def fetch(
    spec: ModelSpec,
    target: Path,
    *,
    force: bool = False,
    mirror: str | None = None,
    progress: DownloadProgress | None = None,
) -> list[Placed]:
    """Download the model's files (encoder included) that `target` lacks, check them, put them in place.

    Sources are tried in the registry's order; an archive is downloaded once for all the files it
    holds and removed when they are in place.

    Returns:
        The files written (empty when everything was already there).

    Raises:
        WeightsError: a file could not be downloaded from any source, or does not match the
            registry's digest (the bad download is removed).
    """
    net = spec.build()
    downloads = target / DOWNLOADS
    placed: list[Placed] = []
    archives: set[Path] = set()
    for wf in spec.all_files:
        if not force and present(spec, wf, target):
            continue
        if not wf.sources:
            raise WeightsError(f"{wf.filename}: no public download location is known", hint=spec.how_to_get)
        errors = []
        for source in wf.sources:
            url = mirrored(source.url, mirror)
            part = downloads / _part_name(source, wf)
            complete = part.with_name(part.name.removesuffix(".part"))
            try:
                if not complete.is_file():
                    download(url, part, progress)
                    os.replace(part, complete)
            except WeightsError as exc:  # what arrived stays in the .part file, to resume
                errors.append(exc)
                continue
            try:
                if source.member is None:
                    ref = FileRef(complete)
                else:
                    archives.add(complete)
                    check_archive(complete)
                    ref = FileRef(complete, _member(complete, source.member))
                placed.append(place(spec, wf, ref, ref.read_bytes(), target, net, released_only=True))
            except WeightsError as exc:  # a bad download: removed, so the next try starts afresh
                complete.unlink(missing_ok=True)
                archives.discard(complete)
                errors.append(exc)
                continue
            if source.member is None:
                complete.unlink()
            break
        else:  # the first source is the primary one: its error says most
            others = f" (and {len(errors) - 1} other source(s) failed)" if len(errors) > 1 else ""
            raise WeightsError(f"{wf.filename}: {errors[0].message}{others}", hint=errors[0].hint or spec.how_to_get)
    for archive in archives:
        with contextlib.suppress(OSError):
            archive.unlink()
    with contextlib.suppress(OSError):
        downloads.rmdir()
    return placed
