"""The claims ledger: reading the claims of the book from the notebooks' stored outputs."""

from pathlib import Path

import nbformat
import pytest

import sgdsim
from sgdsim import ledger
from sgdsim.checks import evaluate

ROOT = Path(__file__).resolve().parents[1]


def _nb(path, cells, *, title="A chapter", renumber=True):
    """Write a notebook whose code cells have the given stdout text (or error) outputs."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\nText."))
    count = 0
    for out in cells:
        cell = nbformat.v4.new_code_cell("x = 1")
        if out is None:  # never executed
            cell.execution_count = None
        else:
            count += 1
            cell.execution_count = count if renumber else 7 - count
            if isinstance(out, Exception):
                cell.outputs = [nbformat.v4.new_output(
                    "error", ename=type(out).__name__, evalue=str(out), traceback=[])]
            elif out:
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=out)]
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def _book(tmp_path, notebooks, toc_extra=()):
    (tmp_path / "chapters").mkdir()
    toc = ["format: jb-book", "root: chapters/intro", "chapters:"]
    for name, cells in notebooks.items():
        _nb(tmp_path / "chapters" / f"{name}.ipynb", cells, title=name.title())
        toc.append(f"  - file: chapters/{name}")
    toc += list(toc_extra)
    (tmp_path / "_toc.yml").write_text("\n".join(toc) + "\n")
    return tmp_path


GOOD = str(evaluate("slope", 0.2503, 0.25, stderr=0.0012))
GOOD2 = str(evaluate("max error", 3e-13, 0.0, atol=1e-10))
BAD = str(evaluate("alpha", 0.1, 0.5, stderr=0.01))


def test_notebook_claims_reads_every_claim_line_once(tmp_path):
    path = _nb(tmp_path / "a.ipynb", [
        "some text\n" + GOOD + "\n",
        "",
        GOOD2 + "\n<Figure size 640x480 with 1 Axes>\n",
        "Summary:\n" + GOOD + "\n" + GOOD2 + "\n",  # a summary re-prints the claims
    ], title="Gradient flow")
    nb = ledger.notebook_claims(path)
    assert nb.title == "Gradient flow"
    assert [str(c) for c in nb.claims] == [GOOD, GOOD2]
    assert nb.problems == [] and nb.passed == 2 and nb.failed == 0


@pytest.mark.parametrize("cells, problem", [
    (["no claims here\n"], "no claim is checked"),
    ([BAD + "\n", sgdsim.ClaimFailed(BAD)], "claim failed: alpha"),
    ([GOOD + "\n", ValueError("boom")], "raised ValueError: boom"),
    ([GOOD + "\n", None], "never executed"),
    (["✓ slope: measured 1 (format changed)\n", GOOD + "\n"], "does not parse"),
])
def test_notebook_claims_reports_problems(tmp_path, cells, problem):
    nb = ledger.notebook_claims(_nb(tmp_path / "a.ipynb", cells))
    assert any(problem in p for p in nb.problems), nb.problems


def test_outputs_out_of_order_are_a_problem(tmp_path):
    nb = ledger.notebook_claims(_nb(tmp_path / "a.ipynb", [GOOD + "\n", "x\n"],
                                    renumber=False))
    assert any("clean top-to-bottom run" in p for p in nb.problems)


def test_unreadable_notebook_is_a_problem(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    assert "cannot read" in ledger.notebook_claims(bad).problems[0]


def test_collect_follows_the_toc_and_flags_unlisted_notebooks(tmp_path):
    root = _book(tmp_path, {"second": [GOOD + "\n"], "first": [GOOD2 + "\n", BAD + "\n"]})
    _nb(root / "chapters" / "stray.ipynb", [GOOD + "\n"])
    book = ledger.collect(root / "chapters")  # found from a subdirectory
    assert [nb.path.stem for nb in book.notebooks] == ["second", "first"]
    assert book.claims == 3 and book.passed == 2
    problems = book.all_problems()
    assert any("stray.ipynb is not in _toc.yml" in p for p in problems)
    assert any("first.ipynb: claim failed: alpha" in p for p in problems)
    with pytest.raises(ledger.LedgerError, match="claim failed: alpha"):
        book.raise_for_problems()
    assert book.summary() == "3 claims checked in 2 chapters: 2 ✓, 1 ✗; 2 problem(s)"


def test_rendering_shows_claims_and_problems(tmp_path):
    root = _book(tmp_path, {"one": [GOOD + "\n"], "empty": ["nothing\n"]})
    book = ledger.collect(root)
    html = book._repr_html_()
    assert "<table" in html and "slope" in html and "0.2503 ± 0.0012" in html
    assert "no claim is checked" in html and 'href="one.html"' in html
    text = repr(book)
    assert text.splitlines()[0] == "1 claim checked in 2 chapters: 1 ✓, 0 ✗; 1 problem(s)"
    assert f"   {GOOD}" in text and "PROBLEM: no claim is checked" in text


def test_html_is_escaped(tmp_path):
    line = str(evaluate("<b>bold</b> & co", 1.0, 1.0, atol=0.1))
    root = _book(tmp_path, {"one": [line + "\n"]})
    html = ledger.collect(root)._repr_html_()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "<b>bold" not in html


def test_no_toc_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="_toc.yml"):
        ledger.find_book_root(tmp_path)


def test_toc_files_reads_root_and_files(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: chapters/intro\nchapters:\n  - file: chapters/a\n"
        "  - file: 'chapters/b'  # comment\n")
    assert ledger.toc_files(tmp_path) == ["chapters/intro", "chapters/a", "chapters/b"]


def test_the_books_own_ledger_has_no_problems():
    # The real chapters: every chapter checks at least one claim, all pass, and the stored
    # outputs are one clean run (strict nbval checks they are also what a fresh run prints).
    book = ledger.collect(ROOT)
    assert len(book.notebooks) >= 5
    book.raise_for_problems()
