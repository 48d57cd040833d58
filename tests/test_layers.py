"""The import contract: the core of sgdsim never imports the book layer or the widgets.

Core modules are ``lib/sgdsim/*.py``; the book layer is ``sgdsim.book`` (chapter machinery,
scenes, the claims ledger) and ``sgdsim.widgets`` is view code. The book may use the core;
the core may not use the book, so the laws every claim is checked against do not depend on
any chapter.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "lib" / "sgdsim"
CORE = sorted(p for p in PKG.glob("*.py"))
FORBIDDEN = ("sgdsim.book", "sgdsim.widgets")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (top level or inside functions), as absolute names."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package of `path`
                base = ["sgdsim"] + list(path.relative_to(PKG).parent.parts)
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
    return out


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_never_imports_the_book_layer_or_widgets(path):
    bad = [f"line {n}: {m}" for n, m in imported_modules(path)
           if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert not bad, f"{path.name} imports the book layer or widgets: {bad}"


def test_the_contract_test_sees_relative_and_nested_imports(tmp_path):
    # the checker itself: a nested relative import of the book layer is found
    f = PKG / "_contract_probe.py"
    try:
        f.write_text("def f():\n    from .book import ledger\n    from . import widgets\n")
        mods = [m for _, m in imported_modules(f)]
        assert "sgdsim.book" in mods and "sgdsim.widgets" in mods
    finally:
        f.unlink()


def test_import_sgdsim_loads_neither_the_ledger_nor_widgets():
    code = ("import sys, sgdsim; bad = [m for m in sys.modules if m.startswith("
            "('sgdsim.book', 'sgdsim.widgets', 'sgdsim.ledger', 'ipywidgets'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
