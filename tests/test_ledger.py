"""The claims ledger: reading the claims of the book from the notebooks' stored outputs."""

from pathlib import Path

import nbformat
import pytest

import sgdsim
from sgdsim.book import ledger
ROOT = Path(__file__).resolve().parents[1]


def _panel(*specs, chapter="a", summary=False):
    """A display_data output as a Claims panel (or summary) writes it."""
    c = sgdsim.Claims(chapter)
    for kind, name, *args in specs:
        try:
            getattr(c, kind)(name, *args[:2], **(args[2] if len(args) > 2 else {}))
        except sgdsim.ClaimFailed:
            pass
    shown = c.summary() if summary else c.panel()
    data, meta = shown._repr_mimebundle_()
    return nbformat.v4.new_output("display_data", data=data, metadata=meta)


GOOD = ("check", "slope", 0.2503, 0.25, {"stderr": 0.0012})
GOOD2 = ("check", "max error", 3e-13, 0.0, {"atol": 1e-10})
REFUTED = ("refute", "alpha = 1/10", 0.5, 0.1, {"stderr": 0.01})
SHOWN = ("demonstrate", "a drop helps", 0.3, None, {"stderr": 0.01})
BAD = ("check", "alpha", 0.1, 0.5, {"stderr": 0.01})


def _nb(path, cells, *, title="A chapter", renumber=True):
    """Write a notebook whose code cells have the given outputs (None: never executed)."""
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
            elif isinstance(out, str):
                if out:
                    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=out)]
            else:
                cell.outputs = [out]
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


def test_notebook_claims_reads_every_record_once_from_data(tmp_path):
    c = sgdsim.Claims("gf")
    c.section("S1")
    c.check(*GOOD[1:3], GOOD[3], **GOOD[4])
    c.refute(*REFUTED[1:3], REFUTED[3], **REFUTED[4])
    first = c.panel()._repr_mimebundle_()
    c.section("S2")
    c.demonstrate(SHOWN[1], SHOWN[2], **SHOWN[4])
    summary = c.summary()._repr_mimebundle_()
    outs = [nbformat.v4.new_output("display_data", data=d, metadata=m) for d, m in
            (first, summary)]
    path = _nb(tmp_path / "a.ipynb", ["text only\n", outs[0], "", outs[1]],
               title="Gradient flow")
    nb = ledger.notebook_claims(path)
    assert nb.title == "Gradient flow"
    assert [r.name for r in nb.claims] == ["slope", "alpha = 1/10", "a drop helps"]
    assert [r.kind for r in nb.claims] == ["claim", "refutation", "demonstration"]
    assert [r.section for r in nb.claims] == ["S1", "S1", "S2"]
    assert nb.problems == [] and nb.passed == 2 and nb.failed == 0
    assert nb.claims[0].resolution == pytest.approx(4 * 0.0012 / 0.25)


def test_printed_text_that_looks_like_a_claim_is_not_read(tmp_path):
    # the ledger reads data, never printed text
    line = "✓ slope: measured 0.25 | predicted 0.25 | deviation +0σ | pass if |dev| ≤ 4σ\n"
    nb = ledger.notebook_claims(_nb(tmp_path / "a.ipynb", [line]))
    assert nb.claims == [] and any("no claim is checked" in p for p in nb.problems)


@pytest.mark.parametrize("cells, problem", [
    (["no claims here\n"], "no claim is checked"),
    ([_panel(SHOWN)], "no claim is checked"),  # demonstrations verify nothing
    ([_panel(BAD), sgdsim.ClaimFailed("alpha")], "claim failed: alpha"),
    ([_panel(GOOD), ValueError("boom")], "raised ValueError: boom"),
    ([_panel(GOOD), None], "never executed"),
])
def test_notebook_claims_reports_problems(tmp_path, cells, problem):
    nb = ledger.notebook_claims(_nb(tmp_path / "a.ipynb", cells))
    assert any(problem in p for p in nb.problems), nb.problems


def test_records_never_displayed_are_a_problem(tmp_path):
    c = sgdsim.Claims("a")
    c.check(*GOOD[1:3], GOOD[3], **GOOD[4])
    shown = c.panel()._repr_mimebundle_()
    c.check(*GOOD2[1:3], GOOD2[3], **GOOD2[4])
    c.check("third", 1.0, 1.0, atol=0.1)
    late = c.panel()._repr_mimebundle_()
    # the chapter displayed only its first panel, though the second reports 3 recorded
    out = nbformat.v4.new_output("display_data", data=shown[0], metadata={
        ledger.METADATA_KEY: dict(late[1][ledger.METADATA_KEY], records=[
            shown[1][ledger.METADATA_KEY]["records"][0]])})
    nb = ledger.notebook_claims(_nb(tmp_path / "a.ipynb", [out]))
    assert any("2 recorded claim(s) never displayed" in p for p in nb.problems), nb.problems


def test_unreadable_claims_data_is_a_problem(tmp_path):
    out = nbformat.v4.new_output("display_data", data={"text/plain": "x"},
                                 metadata={ledger.METADATA_KEY: {"records": "nonsense"}})
    nb = ledger.notebook_claims(_nb(tmp_path / "a.ipynb", [_panel(GOOD), out]))
    assert any("unreadable claims data" in p for p in nb.problems), nb.problems


def test_outputs_out_of_order_are_a_problem(tmp_path):
    nb = ledger.notebook_claims(_nb(tmp_path / "a.ipynb", [_panel(GOOD), "x\n"],
                                    renumber=False))
    assert any("clean top-to-bottom run" in p for p in nb.problems)


def test_unreadable_notebook_is_a_problem(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    assert "cannot read" in ledger.notebook_claims(bad).problems[0]


def test_collect_follows_the_toc_and_flags_unlisted_notebooks(tmp_path):
    root = _book(tmp_path, {"second": [_panel(GOOD)],
                            "first": [_panel(GOOD2, REFUTED, SHOWN, BAD)]})
    _nb(root / "chapters" / "stray.ipynb", [_panel(GOOD)])
    book = ledger.collect(root / "chapters")  # found from a subdirectory
    assert [nb.path.stem for nb in book.notebooks] == ["second", "first"]
    assert sum(len(nb.claims) for nb in book.notebooks) == 5 and book.passed == 3
    assert [book.count(k) for k in ("claim", "refutation", "demonstration")] == [3, 1, 1]
    problems = book.all_problems()
    assert any("stray.ipynb is not in _toc.yml" in p for p in problems)
    assert any("first.ipynb: claim failed: alpha" in p for p in problems)
    with pytest.raises(ledger.LedgerError, match="claim failed: alpha"):
        book.raise_for_problems()
    assert book.summary() == ("3 claims, 1 refutations and 1 demonstrations in 2 chapters: "
                              "3 ✓, 1 ✗; 2 problem(s)")


def test_rendering_shows_claims_by_kind_with_resolving_power(tmp_path):
    root = _book(tmp_path, {"one": [_panel(GOOD, REFUTED)], "empty": ["nothing\n"]})
    book = ledger.collect(root)
    html = book._repr_html_()
    assert "<table" in html and "slope" in html and "0.2503 ± 0.0012" in html
    assert "±1.9 %" in html  # resolving power: 4 s.e. / 0.25
    assert "refutations (1)" in html and "claims (1)" in html
    assert "no claim is checked" in html and 'href="one.html"' in html
    text = repr(book)
    assert text.splitlines()[0].startswith("1 claims, 1 refutations and 0 demonstrations")
    assert "PROBLEM: no claim is checked" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_html_is_escaped(tmp_path):
    root = _book(tmp_path, {"one": [_panel(("check", "<b>bold</b> & co", 1.0, 1.0,
                                            {"atol": 0.1}))]})
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


def test_results_table_html_and_text():
    t = ledger.ResultsTable(("a", "b"), [("x<y", "[link](#sec-x)"), ("x" * 120, 22)],
                            caption="cap")
    html = t._repr_html_()
    assert '<th scope="col">a</th>' in html and "<caption>cap</caption>" in html
    assert "x&lt;y" in html and '<a href="#sec-x">link</a>' in html and "<td>22</td>" in html
    lines = repr(t).splitlines()
    assert lines[:3] == ["cap", "a | b", "x<y | link"]
    assert len(lines) == 4 and len(lines[3]) == 100 and lines[3].endswith("…")
