"""The layers of docs/architecture.md hold: nothing below the command line reaches up into it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "stylize"


def library_modules() -> list[str]:
    """Every module of the package except the command line (cli/ and __main__)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1:2] in (("cli",), ("__main__",)):
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def imported_names(path: Path) -> set[str]:
    """Modules a file imports anywhere in it (at the top or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_library_loads_without_click() -> None:
    modules = library_modules()
    assert "stylize.pipeline.image_runner" in modules and "stylize.cli.main" not in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'click' or m.startswith(('click.', 'rich', 'stylize.cli'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_no_library_module_imports_the_command_line_even_inside_a_function() -> None:
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(
            n for n in imported_names(path) if n.split(".")[0] in ("click", "rich") or n.startswith("stylize.cli")
        )
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in ("cli", "__main__.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


# What each part of the package may import from the rest (docs/architecture.md); `errors` and
# `_version` are open to all, and a part may always import itself.
ALLOWED = {
    "stylize": {"device", "models", "stylizer", "weights"},  # the public API
    "cli": {"*"},
    "pipeline": {"device", "media", "models", "stylizer", "weights"},
    "stylizer": {"device", "media", "models", "weights"},
    "device": set(),
    "errors": set(),
    "_version": set(),
    "media": set(),
    "models": set(),
    "weights": {"media.atomic", "models"},
    "metrics": {"device", "media", "models", "pipeline.flow", "stylizer", "weights"},
    "training": {"device", "media", "models", "weights"},
    "__main__": {"cli"},
}


def test_each_part_imports_only_what_the_architecture_allows() -> None:
    crossings = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        part = "stylize" if parts == ("__init__",) else parts[0]
        allowed = ALLOWED[part] | {part, "errors", "_version"}
        for name in imported_names(path):
            if name == "stylize" or not name.startswith("stylize."):
                continue
            target = name.split(".")[1:3]
            if "*" not in allowed and target[0] not in allowed and ".".join(target) not in allowed:
                crossings.add(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert sorted(crossings) == []


def test_benchmarks_scripts_and_the_demo_use_the_library_not_the_command_line() -> None:
    root = PACKAGE.parent
    offenders = {
        str(path.relative_to(root))
        for folder in ("bench", "scripts", "demo")
        for path in (root / folder).rglob("*.py")
        if any(name.startswith("stylize.cli") for name in imported_names(path))
    }
    assert offenders == set()
