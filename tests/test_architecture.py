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
