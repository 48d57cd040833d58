"""Consistency of the book's files: the table of contents, the one repository setting."""

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import nbtools  # noqa: E402

CHAPTERS = ["gradient_flow", "sgd_convergence", "tz_theorem", "langevin", "rmsprop"]


def test_toc_lists_the_five_chapters_in_order():
    toc = (ROOT / "_toc.yml").read_text()
    positions = [toc.index(f"chapters/{c}") for c in CHAPTERS]
    assert positions == sorted(positions)
    for c in CHAPTERS:
        assert (ROOT / "chapters" / f"{c}.ipynb").exists()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_notebook_starts_with_hidden_setup_cell_from_config(chapter):
    nb = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
    first = nb.cells[0]
    assert "remove-cell" in first.metadata.get("tags", [])
    assert first.source == nbtools.setup_cell().source
    assert nbtools.repository_url() in first.source


def test_binder_badge_follows_repository_setting():
    url = nbtools.repository_url()
    org_repo = url.removeprefix("https://github.com/")
    assert f"mybinder.org/v2/gh/{org_repo}/main" in (ROOT / "README.md").read_text()


def test_references_bib_parses_without_duplicates():
    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "references.bib")).entries  # raises on a syntax error
    assert len(entries) >= 10
