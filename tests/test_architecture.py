"""Architecture guards, read from the source with ``ast``: no import cycles between modules, packages in layers
(no import upwards), training and inference are siblings that share ``antseg.preprocessing`` and never import
each other; CLI commands stay thin.

Every import counts, wherever it is written: at the top of a module, inside a function (an import deferred for
start-up time is still a dependency) or under ``TYPE_CHECKING`` (a dependency of the types). Not counted: the
parent package that Python runs before a submodule (``import a.b.c`` runs ``a/__init__.py``; packages re-export
their modules, so counting it would make every package a circle with its own modules), and names imported by
string (``importlib``, registries' declared plugins, ``importlib.resources`` package data).
"""

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


def import_graph(root: Path = SRC) -> dict[str, set[str]]:
    """Module -> the antseg modules it imports (every ``.py`` file under ``root``; see the module docstring)."""
    files = {_module_name(f, root): f for f in sorted(root.rglob("*.py"))}
    return {m: {t for t in imported_modules(f, root) if t in files and t != m} for m, f in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted: every import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between antseg's top-level packages and modules (``antseg.models.runs`` -> ``models``)."""

    def top(m: str) -> str:
        return m.split(".")[1] if "." in m else m

    out: dict[str, set[str]] = {}
    for m, targets in graph.items():
        out.setdefault(top(m), set()).update(top(t) for t in targets if top(t) != top(m))
    return out


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


def test_cycle_finder_sees_a_circle_through_a_function_local_import(tmp_path):
    pkg = tmp_path / "antseg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "sub" / "a.py").write_text("from antseg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from antseg.sub.c import x\n")
    (pkg / "sub" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import antseg.sub.a\n")
    (pkg / "top.py").write_text("import antseg.sub.a\n")
    graph = import_graph(pkg)
    assert cycles(graph) == [["antseg.sub.a", "antseg.sub.b", "antseg.sub.c"]]
    assert package_graph(graph) == {"sub": set(), "top": {"sub"}}
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    """No module imports itself back through others (function-local and TYPE_CHECKING imports included)."""
    graph = import_graph()
    assert len(graph) > 100 and graph["antseg.cli.predict"]  # the whole package, local imports seen
    assert cycles(graph) == []


def test_packages_form_layers():
    """antseg's packages import each other without a circle, so they stack in layers with every import pointing
    down; nothing in the library imports the shipped models' rebuild scripts (``antseg.pretrained``)."""
    packages = package_graph(import_graph())
    assert cycles(packages) == []
    assert sorted(p for p, targets in packages.items() if "pretrained" in targets) == []


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


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def private_uses(path: Path) -> list[str]:
    """Private (underscore) names a script takes from antseg: imported, or reached through ``super()``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "antseg":
            parts = node.module.split(".") + [a.name for a in node.names]
            found += [f"{node.module}.{p}" for p in parts if p.startswith("_") and not p.startswith("__")]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("antseg.") and "._" in a.name]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            call = node.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "super":
                found.append(f"super().{node.attr}")
    return found


def test_private_use_finder(tmp_path):
    f = tmp_path / "bench.py"
    f.write_text(
        "from antseg.training.trainer import Trainer, _batch_metrics\nimport antseg._hidden\n"
        "class P(Base):\n    def step(self):\n        return super()._probabilities(1)\n"
    )
    assert private_uses(f) == ["antseg.training.trainer._batch_metrics", "antseg._hidden", "super()._probabilities"]


@pytest.mark.skipif(not BENCHMARKS.is_dir(), reason="benchmarks/ is not beside the tests")
def test_benchmark_scripts_use_only_public_names():
    scripts = sorted(BENCHMARKS.glob("*.py"))
    assert scripts
    assert {p.name: private_uses(p) for p in scripts if private_uses(p)} == {}
