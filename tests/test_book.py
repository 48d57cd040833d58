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


def _text_output_lines(nb):
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text = out.text
            elif out.output_type in ("execute_result", "display_data"):
                text = out.get("data", {}).get("text/plain", "")
            else:
                continue
            yield from ("".join(text) if isinstance(text, list) else text).splitlines()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_text_output_wider_than_the_text_column(chapter):
    nb = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
    wide = [line for line in _text_output_lines(nb) if len(line) > 100]
    assert not wide, f"{len(wide)} output line(s) over 100 characters, e.g. {wide[0]!r}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_claims_are_data_not_printed_lines(chapter):
    # claims go through sgdsim.Claims (no ledger= lists, no printing of claim lines) and no
    # number is rounded by hand so that strict nbval reproduces it
    import re

    nb = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
    src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "ledger=" not in src
    assert "sgdsim.check(" not in src and "sgdsim.refute(" not in src
    shim = re.search(r"\b(rounded|r2|floor)\s*=\s*lambda|def (rounded|r2)\b|round\([^()]*"
                     r"(\([^()]*\))*[^()]*,\s*1\d\)", src)
    assert shim is None, f"a rounding shim: {shim.group(0)!r}"
    assert f'sgdsim.Claims("{chapter}")' in src


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_notebook_metadata_is_what_jupyterlab_writes(chapter):
    # JupyterLab rewrites any other display name on open (the notebook then shows as
    # modified); widget state is stale by construction and is never stored
    nb = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
    assert nb.metadata.kernelspec == {"display_name": "Python 3 (ipykernel)",
                                      "language": "python", "name": "python3"}
    assert "widgets" not in nb.metadata
