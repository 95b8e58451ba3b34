"""Architecture guards, read from the source with ``ast``: training and inference are siblings that share
``antseg.preprocessing`` and never import each other; CLI commands stay thin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import antseg

SRC = Path(antseg.__file__).resolve().parent

#: The longest CLI function, in statements (nested ones included). The CLI's longest today is a renderer of
#: 18; the library's orchestration functions have 21 (run_biometry), 22 (evaluate_run), 32
#: (evaluate_segmentation), 41 (predicted_biometry) and 50 (run_demo) of their own, so folding one of them
#: back into a command, on top of that command's argument handling, breaks this limit.
MAX_CLI_STATEMENTS = 24


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imported_modules(path: Path, root: Path = SRC) -> set[str]:
    """Every module ``path`` (inside the package folder ``root``) imports, anywhere in the file, relative imports
    resolved (``from a import b`` counts as ``a`` and ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the package
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return found


def _imports_of(folder: str) -> dict[str, set[str]]:
    files = sorted((SRC / folder).rglob("*.py"))
    assert files, folder
    return {str(f.relative_to(SRC)): imported_modules(f) for f in files}


def _hits(imports: dict[str, set[str]], package: str) -> dict[str, list[str]]:
    bad = {f: sorted(m for m in mods if m == package or m.startswith(package + ".")) for f, mods in imports.items()}
    return {f: mods for f, mods in bad.items() if mods}


def test_import_parser_sees_relative_and_from_imports(tmp_path):
    pkg = tmp_path / "antseg" / "inference"
    pkg.mkdir(parents=True)
    f = pkg / "probe.py"
    f.write_text(
        "import numpy as np\nfrom ..training import trainer\nfrom . import spurs\n"
        "def g():\n    from antseg import training\n"
    )
    mods = imported_modules(f, root=tmp_path / "antseg")
    assert {"numpy", "antseg.training", "antseg.training.trainer", "antseg.inference.spurs"} <= mods


def test_inference_never_imports_training():
    imports = _imports_of("inference")
    assert any("antseg.preprocessing" in m for m in imports.values())  # the shared sibling is seen
    assert _hits(imports, "antseg.training") == {}


def test_training_never_imports_inference():
    imports = _imports_of("training")
    assert any("antseg.preprocessing" in m for m in imports.values())
    assert _hits(imports, "antseg.inference") == {}


def _statements(fn: ast.AST) -> int:
    return sum(isinstance(n, ast.stmt) for n in ast.walk(fn)) - 1


@pytest.mark.parametrize("path", sorted((SRC / "cli").glob("*.py")), ids=lambda p: p.name)
def test_cli_functions_are_thin(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    sizes = {n.name: _statements(n) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    too_long = {name: n for name, n in sizes.items() if n > MAX_CLI_STATEMENTS}
    assert too_long == {}, f"move the work into the library (limit {MAX_CLI_STATEMENTS} statements)"


def test_statement_count_of_a_long_function():
    """The measure itself: a flat 30-statement body counts 30, nested blocks count their inner statements."""
    body = "\n".join(f"    x{i} = {i}" for i in range(30))
    fn = ast.parse(f"def f():\n{body}\n    if x0:\n        y = 1\n").body[0]
    assert _statements(fn) == 32 > MAX_CLI_STATEMENTS
