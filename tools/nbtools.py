"""Authoring helpers for the chapter notebooks (a development tool, not part of sgdsim).

A chapter can be written as a list of cells and saved as a notebook::

    from nbtools import md, code, save_notebook
    save_notebook("chapters/x.ipynb", [md("# Title"), code("import sgdsim")])

Every notebook starts with the same hidden setup cell (:func:`setup_cell`),
which installs ``sgdsim`` from the repository in ``_config.yml`` when the
notebook runs outside the book (Colab, a downloaded copy).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def repository_url() -> str:
    """The one repository setting, read from ``_config.yml``."""
    text = (ROOT / "_config.yml").read_text()
    m = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", text, re.M)
    if not m:
        raise RuntimeError("_config.yml has no repository.url")
    return m.group(1)


def setup_cell() -> nbformat.NotebookNode:
    src = (
        "# Setup (hidden on the website): outside the book's environment -- Colab, a\n"
        "# downloaded copy -- install the book's simulator package from its repository.\n"
        "try:\n"
        "    import sgdsim\n"
        "except ImportError:\n"
        f'    %pip install --quiet "sgdsim @ git+{repository_url()}"\n'
        "    import sgdsim"
    )
    return code(src, tags=["remove-cell"])


def md(text: str, **metadata) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip("\n"), metadata=metadata)


def code(text: str, *, tags=(), alt: str | None = None, caption: str | None = None,
         name: str | None = None, **metadata) -> nbformat.NotebookNode:
    """A code cell; ``alt`` (and ``caption``/``name``) describe the figure it draws."""
    meta = dict(metadata)
    if tags:
        meta["tags"] = list(tags)
    mystnb = {}
    if alt:
        mystnb["image"] = {"alt": alt}
    fig = {k: v for k, v in (("caption", caption), ("name", name)) if v}
    if fig:
        mystnb["figure"] = fig
    if mystnb:
        meta["mystnb"] = mystnb
    return nbformat.v4.new_code_cell(text.strip("\n"), metadata=meta)


def save_notebook(path, cells, *, with_setup: bool = True) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = ([setup_cell()] if with_setup else []) + list(cells)
    nb.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                       "language": "python"},
        "language_info": {"name": "python"},
    })
    path = Path(path)
    nbformat.write(nb, path)
    return path


def sync_setup_cells(paths=None) -> list[Path]:
    """Rewrite the first (setup) cell of each chapter notebook from ``_config.yml``."""
    changed = []
    for path in paths or sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0] if nb.cells else None
        fresh = setup_cell()
        if first is None or "remove-cell" not in first.metadata.get("tags", []):
            raise RuntimeError(f"{path}: the first cell is not the hidden setup cell")
        if first.source != fresh.source:
            first.source = fresh.source
            nbformat.write(nb, path)
            changed.append(Path(path))
    return changed


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--sync-setup-cells"]:
        for p in sync_setup_cells():
            print(f"updated {p}")
    else:
        sys.exit("usage: python tools/nbtools.py --sync-setup-cells")
