"""Planning a batch: pure path arithmetic, no model."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest

from stylize.errors import SetupError
from stylize.pipeline.plan import Naming, collect_inputs, expand_images, parse_extensions, plan, plan_jobs


def touch(*paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """photos/{a.jpg, b.PNG, notes.txt, .hidden.png, sub/c.webp, sub/clip.mp4}; styles/{wave.jpg, ink.png}."""
    photos = tmp_path / "photos"
    touch(photos / "a.jpg", photos / "b.PNG", photos / "notes.txt", photos / ".hidden.png")
    touch(photos / "sub" / "c.webp", photos / "sub" / "clip.mp4")
    touch(tmp_path / "styles" / "wave.jpg", tmp_path / "styles" / "ink.png")
    return tmp_path


def names(jobs, root: Path) -> list[str]:  # type: ignore[no-untyped-def]
    return [j.output.relative_to(root).as_posix() for j in jobs]


def test_folder_scan_flat_and_recursive(tree: Path) -> None:
    files, problems, notes = collect_inputs([str(tree / "photos")])
    assert [f.relative.as_posix() for f in files] == ["a.jpg", "b.PNG"]
    assert problems == [] and notes == [f"{tree / 'photos'}: 1 sub-folder(s) not scanned (use --recursive)"]
    files, _, notes = collect_inputs([str(tree / "photos")], recursive=True)
    assert [(f.relative.as_posix(), f.kind) for f in files] == [
        ("a.jpg", "image"), ("b.PNG", "image"), ("sub/c.webp", "image"), ("sub/clip.mp4", "video"),
    ]  # fmt: skip
    assert notes == []


def test_extension_filter_applies_to_scans_not_to_named_files(tree: Path) -> None:
    exts = parse_extensions("png, .WEBP")
    assert exts == {".png", ".webp"}
    files, _, _ = collect_inputs([str(tree / "photos"), str(tree / "photos" / "notes.txt")], recursive=True,
                                 extensions=exts)  # fmt: skip
    assert [f.path.name for f in files] == ["b.PNG", "c.webp", "notes.txt"]


def test_missing_inputs_are_problems_and_duplicates_count_once(tree: Path) -> None:
    a = str(tree / "photos" / "a.jpg")
    files, problems, _ = collect_inputs([a, str(tree / "nope.jpg"), str(tree / "photos")])
    assert [f.path.name for f in files] == ["a.jpg", "b.PNG"]
    assert [(p.path, p.message) for p in problems] == [(str(tree / "nope.jpg"), "no such file or folder")]


def test_stdin_paths_keep_relative_folders(tree: Path) -> None:
    lines = ["./photos/sub/c.webp", str(tree / "photos" / "a.jpg"), "../x/y.png", ""]
    files, _, _ = collect_inputs(["-"], stdin_paths=lines)
    assert [f.relative.as_posix() for f in files] == ["photos/sub/c.webp", "a.jpg", "y.png"]


def test_the_output_folder_is_not_scanned(tree: Path) -> None:
    out = tree / "photos" / "out"
    touch(out / "a__wave.jpg")
    files, _, _ = collect_inputs([str(tree / "photos")], recursive=True, out_dir=out)
    assert all("out" not in f.relative.parts for f in files)


def test_styles_from_files_and_folders(tree: Path) -> None:
    styles = expand_images([str(tree / "styles"), str(tree / "photos" / "a.jpg")])
    assert [s.name for s in styles] == ["ink.png", "wave.jpg", "a.jpg"]
    (tree / "empty").mkdir()
    with pytest.raises(SetupError, match="empty: style folder holds no images"):
        expand_images([str(tree / "empty")])
    with pytest.raises(SetupError, match="nope.jpg: no such style file or folder"):
        expand_images([str(tree / "nope.jpg")])


def test_default_names_mirror_sub_folders(tree: Path) -> None:
    out = tree / "out"
    result = plan([str(tree / "photos")], [tree / "styles" / "wave.jpg"], out, recursive=True)
    assert names(result.jobs, out) == ["a__wave.jpg", "b__wave.png", "sub/c__wave.webp", "sub/clip__wave.mp4"]
    assert [j.kind for j in result.jobs] == ["image", "image", "image", "video"]


def test_every_content_with_every_style_grouped_by_content(tree: Path) -> None:
    out = tree / "out"
    result = plan([str(tree / "photos")], expand_images([str(tree / "styles")]), out, Naming(fmt="webp"))
    assert names(result.jobs, out) == ["a__ink.webp", "a__wave.webp", "b__ink.webp", "b__wave.webp"]


def test_zip_pairing_and_mixing(tree: Path) -> None:
    files, _, _ = collect_inputs([str(tree / "photos")])
    styles = expand_images([str(tree / "styles")])
    out = tree / "out"
    assert names(plan_jobs(files, styles, out, Naming(pair="zip")), out) == ["a__ink.jpg", "b__wave.png"]
    mixed = plan_jobs(files, styles, out, Naming(mix=True))
    assert names(mixed, out) == ["a__ink+wave.jpg", "b__ink+wave.png"] and len(mixed[0].styles) == 2
    with pytest.raises(SetupError, match="needs as many styles as contents: 2 contents, 1 styles"):
        plan_jobs(files, styles[:1], out, Naming(pair="zip"))
    with pytest.raises(SetupError, match="cannot mix"):
        plan_jobs(files, styles, out, Naming(pair="zip", mix=True))


def test_templates(tree: Path) -> None:
    files, _, _ = collect_inputs([str(tree / "photos")])
    styles = expand_images([str(tree / "styles" / "wave.jpg")])
    out = tree / "out"
    jobs = plan_jobs(files, styles, out, Naming(template="{style}/{model}-{name}.png", model="stya2k"))
    assert names(jobs, out) == ["wave/stya2k-a.jpg.png", "wave/stya2k-b.PNG.png"]
    for bad, message in [
        ("{content}.{colour}", "unknown field {colour}"),
        ("{style}.png", "must contain {content} or {name}"),
        ("../{content}.png", "inside the output folder"),
        ("/abs/{content}.png", "inside the output folder"),
        ("{content", "--template"),
        ("{content}.bmp", r"cannot write images as \.bmp"),
    ]:
        with pytest.raises(SetupError, match=message):
            plan_jobs(files, styles, out, Naming(template=bad))


def test_collisions_are_refused_before_anything_runs(tree: Path) -> None:
    touch(tree / "other" / "a.png")
    files, _, _ = collect_inputs([str(tree / "photos" / "a.jpg"), str(tree / "other" / "a.png")])
    styles = expand_images([str(tree / "styles" / "wave.jpg")])
    with pytest.raises(SetupError, match=r"a__wave\.png: 2 outputs would get this name") as info:
        plan_jobs(files, styles, tree / "out", Naming(fmt="png"))
    assert "{name}" in (info.value.hint or "")
    with pytest.raises(SetupError, match="would overwrite an input"):
        plan_jobs(files[:1], styles, tree / "photos", Naming(template="{content}.jpg"))


def test_skip_existing_marks_only_existing_outputs(tree: Path) -> None:
    out = tree / "out"
    touch(out / "a__wave.jpg")
    result = plan([str(tree / "photos")], [tree / "styles" / "wave.jpg"], out, Naming(skip_existing=True))
    assert [j.skip for j in result.jobs] == [True, False]
    assert [j.output.name for j in result.todo] == ["b__wave.png"]
    result = plan([str(tree / "photos")], [tree / "styles" / "wave.jpg"], out)
    assert not any(j.skip for j in result.jobs)


def test_odd_extensions_get_png_and_videos_keep_their_container(tree: Path) -> None:
    touch(tree / "in" / "anim.gif", tree / "in" / "scan.bmp", tree / "in" / "clip.MOV")
    result = plan([str(tree / "in")], [tree / "styles" / "wave.jpg"], tree / "out", Naming(fmt="jpg"))
    assert [j.output.name for j in result.jobs] == ["anim__wave.jpg", "clip__wave.mov", "scan__wave.jpg"]
    result = plan([str(tree / "in")], [tree / "styles" / "wave.jpg"], tree / "out")
    assert [j.output.name for j in result.jobs] == ["anim__wave.png", "clip__wave.mov", "scan__wave.png"]
    assert PurePath(result.jobs[1].content.path).suffix == ".MOV"


def test_planning_imports_neither_torch_nor_pillow() -> None:
    import subprocess
    import sys

    code = "import sys, stylize.pipeline.plan; print(sorted({'torch', 'PIL'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert result.stdout.strip() == "[]"
