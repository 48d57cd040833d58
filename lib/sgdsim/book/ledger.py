r"""The claims ledger: every claim of the book, read as data from the chapters' stored outputs.

Each chapter records its claims with a :class:`sgdsim.Claims` object, whose panels and
summary carry the full records in their output *metadata* (key
:data:`sgdsim.claims.METADATA_KEY`). The chapter notebooks are committed *with* their
outputs, and strict nbval (``make test``, CI) proves that those stored outputs are what a
fresh execution displays. So the stored outputs are the verified state of the book, and this
module reads them -- as data, never by parsing printed text:

* :func:`notebook_claims` reads one notebook: its title, every record (numbered within the
  chapter; a record shown in a panel and again in the summary counts once), and the
  *problems* that make its outputs untrustworthy or its verification empty -- outputs that
  are not one clean top-to-bottom run (a code cell never executed, or execution counts out
  of order: refresh them with ``make outputs``), a cell that raised, a failed claim, records
  the chapter made but never displayed, or **no claim at all**;
* :func:`collect` reads every chapter notebook listed in ``_toc.yml`` (in book order), and
  flags a ``chapters/*.ipynb`` missing from the table of contents;
* a :class:`Ledger` renders as HTML tables grouped by chapter and kind (and as text
  elsewhere); :meth:`Ledger.raise_for_problems` fails loudly, so a book with a problem does
  not build.

This module is not imported by ``import sgdsim`` (it reads the book's ``_toc.yml``); the
ledger page imports it explicitly.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..claims import KINDS, METADATA_KEY, Record  # noqa: F401 (METADATA_KEY re-exported)

__all__ = ["NotebookClaims", "Ledger", "LedgerError", "notebook_claims", "collect",
           "find_book_root", "toc_files"]


class LedgerError(RuntimeError):
    """The ledger found a problem: a failed, missing, or unverifiable claim."""


@dataclass
class NotebookClaims:
    """The records of one notebook and the problems found in it."""

    path: Path
    title: str
    claims: list[Record] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """Tested records (claims and refutations) that hold."""
        return sum(c.passed is True for c in self.claims)

    @property
    def failed(self) -> int:
        return sum(c.passed is False for c in self.claims)

    def count(self, kind: str) -> int:
        return sum(c.kind == kind for c in self.claims)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def notebook_claims(path) -> NotebookClaims:
    """Read the claims recorded in a notebook's stored outputs.

    Records are read from the output metadata that :class:`sgdsim.Claims` panels and
    summaries write (key :data:`~sgdsim.claims.METADATA_KEY`); a record displayed twice
    (in its panel and in the summary) counts once.

    Parameters
    ----------
    path : str or Path
        A ``.ipynb`` file.

    Returns
    -------
    NotebookClaims
        With ``problems`` listing everything that makes the outputs untrustworthy (see
        the module notes); an empty list means the notebook is fully verified.
    """
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return NotebookClaims(path, path.stem, problems=[f"cannot read the notebook: {exc}"])
    title = path.stem
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            m = re.search(r"^#\s+(.+?)\s*$", _source(cell), re.M)
            if m:
                title = m.group(1)
                break
    result = NotebookClaims(path, title)
    records: dict[int, Record] = {}
    recorded = 0
    counts = []
    for i, cell in enumerate(c for c in nb.get("cells", []) if c.get("cell_type") == "code"):
        if not _source(cell).strip():
            continue
        counts.append(cell.get("execution_count"))
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                result.problems.append(
                    f"code cell {i + 1} raised {out.get('ename', 'an error')}: "
                    f"{out.get('evalue', '')}"[:200])
            data = (out.get("metadata") or {}).get(METADATA_KEY)
            if kind not in ("execute_result", "display_data") or not data:
                continue
            try:
                recorded = max(recorded, int(data["recorded"]))
                for d in data["records"]:
                    rec = Record.from_dict(d)
                    records.setdefault(rec.n, rec)
            except (KeyError, TypeError, ValueError) as exc:
                result.problems.append(f"code cell {i + 1}: unreadable claims data ({exc!r})")
    result.claims = [records[n] for n in sorted(records)]
    if any(c is None for c in counts):
        result.problems.append("stored outputs are incomplete (a code cell was never "
                               "executed): refresh them with `make outputs`")
    elif counts != list(range(1, len(counts) + 1)):
        result.problems.append("stored outputs are not one clean top-to-bottom run "
                               f"(execution counts {counts[:8]}...): refresh them with "
                               "`make outputs`")
    if not any(c.kind in ("claim", "refutation") for c in result.claims):
        result.problems.append("no claim is checked in this chapter")
    missing = sorted(set(range(1, recorded + 1)) - set(records))
    if missing:
        result.problems.append(f"{len(missing)} recorded claim(s) never displayed (numbers "
                               f"{missing[:5]}): end the chapter with claims.summary()")
    for c in result.claims:
        if c.passed is False:
            result.problems.append(f"{c.kind} failed: {c.name}")
    return result


def find_book_root(start=None) -> Path:
    """The nearest directory at or above ``start`` (default: cwd) holding ``_toc.yml``."""
    here = Path.cwd() if start is None else Path(start)
    for d in (here, *here.resolve().parents):
        if (d / "_toc.yml").is_file():
            return d
    raise FileNotFoundError(f"no _toc.yml at or above {here}: run this inside the book")


def toc_files(root) -> list[str]:
    """The documents of ``_toc.yml`` (``root:`` and ``file:`` entries) in book order."""
    names = []
    for line in (Path(root) / "_toc.yml").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*(?:-\s*)?(?:root|file):\s*['\"]?([^'\"#\s]+)", line)
        if m:
            names.append(m.group(1))
    return names


def collect(root=None) -> Ledger:
    """The ledger of the book at ``root``: every notebook of ``_toc.yml``, in book order.

    Parameters
    ----------
    root : str or Path, optional
        The book's root directory (default: found from the working directory).
    """
    root = find_book_root(root)
    listed = []
    for name in toc_files(root):
        nb = root / f"{name}.ipynb"
        if nb.is_file():
            listed.append(nb)
    notebooks = [notebook_claims(nb) for nb in listed]
    problems = []
    for nb in sorted((root / "chapters").glob("*.ipynb")):
        if nb not in listed:
            problems.append(f"{nb.relative_to(root)} is not in _toc.yml, so its claims are "
                            "not in the book")
    if not listed:
        problems.append("no notebook is listed in _toc.yml")
    return Ledger(root=root, notebooks=notebooks, problems=problems)


@dataclass
class Ledger:
    """Every claim of the book, by chapter and kind; displays as tables in a notebook."""

    root: Path
    notebooks: list[NotebookClaims]
    problems: list[str] = field(default_factory=list)

    @property
    def claims(self) -> int:
        """Number of records of every kind."""
        return sum(len(nb.claims) for nb in self.notebooks)

    @property
    def passed(self) -> int:
        return sum(nb.passed for nb in self.notebooks)

    def count(self, kind: str) -> int:
        return sum(nb.count(kind) for nb in self.notebooks)

    def all_problems(self) -> list[str]:
        out = list(self.problems)
        for nb in self.notebooks:
            out += [f"{nb.path.name}: {p}" for p in nb.problems]
        return out

    def summary(self) -> str:
        c, r, d = (self.count(k) for k in KINDS)
        failed = sum(nb.failed for nb in self.notebooks)
        n = len(self.notebooks)
        text = (f"{c} claims, {r} refutations and {d} demonstrations in {n} chapter"
                f"{'s' if n != 1 else ''}: {self.passed} ✓, {failed} ✗")
        k = len(self.all_problems())
        return text + (f"; {k} problem(s)" if k else "; no problems")

    def raise_for_problems(self) -> None:
        """Raise :class:`LedgerError` listing every problem (do nothing if there is none)."""
        problems = self.all_problems()
        if problems:
            raise LedgerError("the claims ledger found problems:\n- " + "\n- ".join(problems))

    # -- rendering -------------------------------------------------------------------
    def to_text(self) -> str:
        lines = [self.summary()]
        for i, nb in enumerate(self.notebooks, 1):
            counts = ", ".join(f"{nb.count(k)} {k}s" for k in KINDS)
            lines.append(f"{i}. {nb.title} ({nb.path.name}): {counts}")
            lines += [f"   {c.text(96)}" for c in nb.claims]
            lines += [f"   PROBLEM: {p}" for p in nb.problems]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    def counts_html(self) -> str:
        """One small table: records per chapter and kind."""
        e = html.escape
        head = "".join(f'<th scope="col">{k}s</th>' for k in KINDS)
        rows = []
        for i, nb in enumerate(self.notebooks, 1):
            cells = "".join(f"<td>{nb.count(k)}</td>" for k in KINDS)
            mark = "✓" if not nb.problems else "✗"
            rows.append(f'<tr><th scope="row"><a href="{e(nb.path.stem)}.html">{i}. '
                        f"{e(nb.title)}</a></th>{cells}<td>{nb.passed} {mark}</td></tr>")
        total = "".join(f"<td>{self.count(k)}</td>" for k in KINDS)
        return ('<table class="sgdsim-claims sgdsim-ledger-counts">'
                f"<caption>{e(self.summary())}</caption>"
                f'<thead><tr><th scope="col">chapter</th>{head}'
                '<th scope="col">hold</th></tr></thead>'
                f"<tbody>{''.join(rows)}</tbody>"
                f"<tfoot><tr><th scope=\"row\">book</th>{total}<td>{self.passed}</td></tr>"
                "</tfoot></table>")

    def _repr_html_(self) -> str:
        e = html.escape
        out = [self.counts_html()]
        if self.problems:
            out.append("<ul>" + "".join(f"<li>✗ {e(p)}</li>" for p in self.problems) + "</ul>")
        for i, nb in enumerate(self.notebooks, 1):
            out.append(f'<h3 class="sgdsim-ledger-chapter"><a href="{e(nb.path.stem)}.html">'
                       f"{i}. {e(nb.title)}</a></h3>")
            if nb.problems:
                out.append("<ul>" + "".join(f"<li>✗ problem: {e(p)}</li>" for p in nb.problems)
                           + "</ul>")
            for kind in KINDS:
                recs = [c for c in nb.claims if c.kind == kind]
                if not recs:
                    continue
                rows = []
                for c in recs:
                    name, meas, pred, dev, res, mark = c.cells()
                    sec = f'<br><span class="sgdsim-section">{e(c.section)}</span>' if c.section else ""
                    rows.append(f"<tr><td>{e(name)}{sec}</td><td>{e(meas)}</td><td>{e(pred)}</td>"
                                f"<td>{e(dev)}</td><td>{e(res)}</td><td>{e(mark)}</td></tr>")
                head = "".join(f'<th scope="col">{h}</th>' for h in
                               ("claim", "measured", "predicted", "deviation", "resolves", ""))
                out.append(f'<table class="sgdsim-claims"><caption>{e(kind)}s ({len(recs)})'
                           f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
                           "</tbody></table>")
        return "\n".join(out)
