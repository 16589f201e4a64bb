"""`stylize weights`: list, install (zip-slip refused), verify, path, and fetch against a local server only."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import torch

from stylize.weights import checkpoint, install, locate, registry
from tests.clitools import error_lines, invoke

ADAATTN = ("latest_net_adaattn_3.pth", "latest_net_transformer.pth", "latest_net_decoder.pth")
STYA2K = ("latest_net_A2K.pth", "latest_net_transform.pth", "latest_net_decoder.pth")


def official_zip(path: Path, parity: Path, extra: dict[str, bytes] | None = None) -> Path:
    """AdaAttN's release layout: checkpoints/AdaAttN/*.pth and checkpoints/vgg_normalised.pth."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(parity / "vgg_normalised.pth", "AdaAttN_model/checkpoints/vgg_normalised.pth")
        for name in ADAATTN:
            zf.write(parity / "adaattn" / name, f"AdaAttN_model/checkpoints/AdaAttN/{name}")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def installed(target: Path) -> list[str]:
    return sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())


# --- install --------------------------------------------------------------------------------


def test_install_the_official_zip(parity_weights: Path, tmp_path: Path) -> None:
    target = tmp_path / "weights"
    result = invoke(["weights", "install", official_zip(tmp_path / "AdaAttN_model.zip", parity_weights),
                     "--weights", target])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert installed(target) == ["adaattn/" + n for n in sorted(ADAATTN)] + ["vgg_normalised.pth"]
    assert (target / "adaattn" / ADAATTN[0]).read_bytes() == (parity_weights / "adaattn" / ADAATTN[0]).read_bytes()
    assert "adaattn is ready" in result.stderr
    assert invoke(["weights", "path", "adaattn", "--weights", target]).stdout.strip() == str(target)


def test_install_a_checkout_without_the_encoder_says_what_is_missing(parity_weights: Path, tmp_path: Path) -> None:
    checkout = tmp_path / "StyA2K"
    (checkout / "checkpoints" / "A2K").mkdir(parents=True)
    for name in STYA2K:
        shutil.copy(parity_weights / "stya2k" / name, checkout / "checkpoints" / "A2K" / name)
    target = tmp_path / "weights"
    result = invoke(["weights", "install", checkout, "--weights", target])
    assert result.exit_code == 0, result.stderr
    assert installed(target) == ["stya2k/" + n for n in sorted(STYA2K)]
    assert "stya2k still needs vgg_normalised.pth (stylize weights fetch stya2k)" in result.stderr


def test_install_refuses_a_zip_slip_archive_as_a_whole(parity_weights: Path, tmp_path: Path) -> None:
    archive = official_zip(tmp_path / "evil.zip", parity_weights, {"../../escaped.pth": b"gotcha"})
    target = tmp_path / "a" / "b" / "weights"
    result = invoke(["weights", "install", archive, "--weights", target])
    assert result.exit_code == 2
    assert error_lines(result.stderr) == [
        f"error: {archive}: entry '../../escaped.pth' would land outside the weights folder; refusing the whole archive"
    ]
    assert not target.exists() and not list(tmp_path.rglob("escaped.pth"))


@pytest.mark.parametrize("case", ["text file", "no checkpoints", "wrong file"])
def test_install_refuses_what_is_not_a_release(parity_weights: Path, tmp_path: Path, case: str) -> None:
    source = tmp_path / "source"
    source.mkdir()
    if case == "text file":
        source = tmp_path / "notes.txt"
        source.write_text("hello")
        message = f"error: {source}: not a folder or a zip archive"
    elif case == "no checkpoints":
        (source / "readme.md").write_text("nothing here")
        message = f"error: {source}: no checkpoints of any model found"
    else:  # a StyA2K decoder posing as the encoder
        shutil.copy(parity_weights / "stya2k" / "latest_net_decoder.pth", source / "vgg_normalised.pth")
        source = source / "vgg_normalised.pth"
        message = f"error: {source}: not the VGG encoder vgg_normalised.pth: missing"
    target = tmp_path / "weights"
    result = invoke(["weights", "install", source, "--weights", target])
    assert result.exit_code == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert not target.exists()


# --- list, verify, path -----------------------------------------------------------------------


def test_list_shows_files_places_and_status(parity_weights: Path, isolated_weights: Path) -> None:
    result = invoke(["weights", "list", "--weights", parity_weights])
    assert result.exit_code == 0, result.stderr
    for name in (*ADAATTN, *STYA2K, "vgg_normalised.pth"):
        assert name in result.stdout
    assert "differs" in result.stdout and "unknown" in result.stdout  # random weights; video files have no digest
    assert f"looked in --weights: {parity_weights} (complete)" in result.stdout
    empty = invoke(["weights", "list", "-m", "stya2k"])
    assert empty.exit_code == 0
    assert "missing" in empty.stdout and f"looked in $STYLIZE_WEIGHTS: {isolated_weights}" in empty.stdout
    assert "to get them: clone github.com/LearningHx/StyA2K" in empty.stdout


def test_verify_passes_and_fails(parity_weights: Path, tmp_path: Path) -> None:
    result = invoke(["weights", "verify", "--weights", parity_weights])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("differs") == 9 and result.stdout.count("unknown") == 2  # 4 + 3 + 4 files
    broken = tmp_path / "broken"
    shutil.copytree(parity_weights / "adaattn", broken / "adaattn")
    shutil.copy(parity_weights / "vgg_normalised.pth", broken)
    decoder = broken / "adaattn" / "latest_net_decoder.pth"
    decoder.write_bytes(decoder.read_bytes()[:1000])
    result = invoke(["weights", "verify", "--weights", broken, "-m", "adaattn"])
    assert result.exit_code == 2
    assert "broken" in result.stdout and "truncated or not a PyTorch checkpoint" in result.stdout
    assert error_lines(result.stderr) == ["error: some weights do not load (see the table)"]


def test_path(isolated_weights: Path) -> None:
    assert invoke(["weights", "path"]).stdout.strip() == str(isolated_weights)
    missing = invoke(["weights", "path", "stya2k"])
    assert missing.exit_code == 2 and "no weights for stya2k" in missing.stderr


# --- fetch, against a local server ---------------------------------------------------------


class Server:
    """A local HTTP server: routes by path and query, honours Range, logs requests."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.honour_range = True
        self.cut_next: set[str] = set()  # routes whose next answer stops half way
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append((self.path, self.headers.get("Range")))
                if self.path not in outer.routes:
                    self.send_error(404)
                    return
                body, kind = outer.routes[self.path]
                start = 0
                ranged = self.headers.get("Range")
                if ranged and outer.honour_range:
                    start = int(ranged.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if self.path in outer.cut_next:
                    outer.cut_next.discard(self.path)
                    self.wfile.write(body[start : start + (len(body) - start) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, url: str, body: bytes, kind: str = "application/octet-stream") -> str:
        parts = urlsplit(url)
        route = f"/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        self.routes[route] = (body, kind)
        return route


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    local = Server()
    monkeypatch.setenv("STYLIZE_WEIGHTS_MIRROR", local.url)
    yield local
    local.httpd.shutdown()
    local.httpd.server_close()


@pytest.fixture
def released(parity_weights: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The registry, with the random-weight files standing in for the released ones (their digests)."""
    files = {"vgg_normalised.pth": (parity_weights / "vgg_normalised.pth").read_bytes()}
    files.update({n: (parity_weights / "adaattn" / n).read_bytes() for n in ADAATTN})
    encoder = dataclasses.replace(registry.ENCODER, digests=(checkpoint.digests(files["vgg_normalised.pth"])[1],))
    for module in (registry, locate, checkpoint, install):
        monkeypatch.setattr(module, "ENCODER", encoder)
    spec = registry.MODELS["adaattn"]
    model_files = tuple(
        dataclasses.replace(wf, digests=(checkpoint.digests(files[wf.filename])[0],)) for wf in spec.files
    )
    monkeypatch.setitem(registry.MODELS, "adaattn", dataclasses.replace(spec, files=model_files))
    return files


def adaattn_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in ADAATTN:
            zf.writestr(f"AdaAttN_model/AdaAttN/{name}", files[name])
    return buffer.getvalue()


def test_fetch_downloads_checks_and_places(server: Server, released: dict[str, bytes], tmp_path: Path) -> None:
    server.serve(registry.ENCODER.sources[0].url, released["vgg_normalised.pth"])
    server.serve(registry.ADAATTN_ZIP, adaattn_zip(released))
    target = tmp_path / "weights"
    result = invoke(["weights", "fetch", "adaattn", "--weights", target])
    assert result.exit_code == 0, result.stderr
    assert installed(target) == ["adaattn/" + n for n in sorted(ADAATTN)] + ["vgg_normalised.pth"]
    for name in ADAATTN:
        assert (target / "adaattn" / name).read_bytes() == released[name]
    assert len(server.requests) == 2  # the zip once for its three files
    assert "verified" in result.stdout and "adaattn is ready" in result.stderr

    again = invoke(["weights", "fetch", "adaattn", "--weights", target])
    assert again.exit_code == 0 and "every file is already in" in again.stderr
    assert len(server.requests) == 2


def test_an_interrupted_download_resumes(server: Server, released: dict[str, bytes], tmp_path: Path) -> None:
    route = server.serve(registry.ENCODER.sources[0].url, released["vgg_normalised.pth"])
    server.serve(registry.ADAATTN_ZIP, adaattn_zip(released))
    server.cut_next.add(route)
    drive = server.serve(registry.ENCODER.sources[1].url, b"")  # the second source is down too
    server.routes.pop(drive)
    target = tmp_path / "weights"
    cut = invoke(["weights", "fetch", "adaattn", "--weights", target])
    assert cut.exit_code == 2
    assert "download interrupted" in cut.stderr and "run the same command again to resume" in cut.stderr
    part = target / ".downloads" / "vgg_normalised.pth.part"
    half = part.stat().st_size
    assert 0 < half < len(released["vgg_normalised.pth"])

    resumed = invoke(["weights", "fetch", "adaattn", "--weights", target])
    assert resumed.exit_code == 0, resumed.stderr
    assert (route, f"bytes={half}-") in server.requests
    assert (target / "vgg_normalised.pth").read_bytes() == released["vgg_normalised.pth"]
    assert not (target / ".downloads").exists()


def test_a_server_that_ignores_range_starts_over(server: Server, released: dict[str, bytes], tmp_path: Path) -> None:
    server.serve(registry.ENCODER.sources[0].url, released["vgg_normalised.pth"])
    server.serve(registry.ADAATTN_ZIP, adaattn_zip(released))
    server.honour_range = False
    part = tmp_path / "weights" / ".downloads" / "vgg_normalised.pth.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"stale bytes of another try")
    result = invoke(["weights", "fetch", "adaattn", "--weights", tmp_path / "weights"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "weights" / "vgg_normalised.pth").read_bytes() == released["vgg_normalised.pth"]


def test_a_file_that_differs_from_the_release_is_refused(server: Server, released: dict[str, bytes],
                                                         tmp_path: Path) -> None:  # fmt: skip
    state = torch.load(io.BytesIO(released["vgg_normalised.pth"]), weights_only=True)
    first = next(iter(state))
    state[first] = state[first] + 1
    tampered = io.BytesIO()
    torch.save(state, tampered)
    for source in registry.ENCODER.sources:
        server.serve(source.url, tampered.getvalue())
    target = tmp_path / "weights"
    result = invoke(["weights", "fetch", "adaattn", "--weights", target])
    assert result.exit_code == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "differs from the released file" in lines[0] and "not installed" in lines[0]
    assert installed(target) == []


def test_a_web_page_instead_of_the_file(server: Server, released: dict[str, bytes], tmp_path: Path) -> None:
    for source in registry.ENCODER.sources:
        server.serve(source.url, b"<html>Google Drive - quota exceeded</html>", "text/html; charset=utf-8")
    result = invoke(["weights", "fetch", "adaattn", "--weights", tmp_path / "weights"])
    assert result.exit_code == 2
    assert "the server sent a web page, not the file" in error_lines(result.stderr)[0]


def test_no_network_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS_MIRROR", "http://127.0.0.1:9")  # nothing listens on the discard port
    result = invoke(["weights", "fetch", "stya2k", "--weights", tmp_path / "weights"])
    assert result.exit_code == 2
    assert error_lines(result.stderr) == [
        "error: vgg_normalised.pth: cannot reach 127.0.0.1:9: connection refused (and 1 other source(s) failed)"
    ]
    assert "hint: check the connection" in result.stderr


def test_mirror_mapping_keeps_path_and_query() -> None:
    from stylize.weights.download import mirrored

    url = "https://drive.usercontent.google.com/download?export=download&id=X"
    assert mirrored(url, "http://m/x/") == "http://m/x/drive.usercontent.google.com/download?export=download&id=X"
    assert mirrored(url, "") == url


@pytest.mark.parametrize("command", ["list", "install", "verify", "path", "fetch", None])
def test_help_shows_an_example(command: str | None) -> None:
    result = invoke(["weights", *([command] if command else []), "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout


def test_released_digests_are_well_formed() -> None:
    for spec in registry.MODELS.values():
        for wf in spec.all_files:
            for digest in wf.digests:
                kind, _, value = digest.partition(":")
                expected = {"sha256": hashlib.sha256().digest_size * 2, "gitblob": 40}[kind]
                assert len(value) == expected and int(value, 16) >= 0
