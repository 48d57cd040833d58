"""The claims ledger: every claim of the book, read as data from the chapters' stored outputs.

:class:`sgdsim.Claims` panels and summaries carry their records in the output metadata (key
:data:`sgdsim.claims.METADATA_KEY`); strict nbval proves the stored outputs are what a fresh
run displays, so this module reads them, never printed text. A notebook has a *problem* when its
outputs are not one clean top-to-bottom run (refresh with ``make outputs``), a cell raised, a
claim failed, a record was never displayed, or it checks no claim at all; a chapter missing
from ``_toc.yml`` is a problem too. :meth:`Ledger.raise_for_problems` fails the build.
:class:`ResultsTable` is the chapters' table of results, styled like the ledger's.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..claims import _HEAD, KINDS, METADATA_KEY, Record  # noqa: F401 (METADATA_KEY re-exported)

__all__ = ["NotebookClaims", "Ledger", "LedgerError", "notebook_claims", "collect",
           "find_book_root", "toc_files", "ResultsTable"]


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
    """The records of the ``.ipynb`` at ``path`` (each once, in order) and its problems
    (none: fully verified)."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return NotebookClaims(path, path.stem, problems=[f"cannot read the notebook: {exc}"])
    cells = nb.get("cells", [])
    titles = (re.search(r"^#\s+(.+?)\s*$", _source(c), re.M) for c in cells
              if c.get("cell_type") == "markdown")
    title = next((m.group(1) for m in titles if m), path.stem)
    result = NotebookClaims(path, title)
    records: dict[int, Record] = {}
    recorded = 0
    counts = []
    for i, cell in enumerate(c for c in cells if c.get("cell_type") == "code"):
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
    result.problems += [f"{c.kind} failed: {c.name}" for c in result.claims if c.passed is False]
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
    pattern = r"^\s*(?:-\s*)?(?:root|file):\s*['\"]?([^'\"#\s]+)"
    lines = (Path(root) / "_toc.yml").read_text(encoding="utf-8").splitlines()
    return [m.group(1) for m in (re.match(pattern, line) for line in lines) if m]


def collect(root=None) -> Ledger:
    """The ledger of every notebook of ``_toc.yml``, in book order (``root`` found from the
    working directory by default)."""
    root = find_book_root(root)
    listed = [root / f"{name}.ipynb" for name in toc_files(root)]
    listed = [nb for nb in listed if nb.is_file()]
    problems = [f"{nb.relative_to(root)} is not in _toc.yml, so its claims are not in the book"
                for nb in sorted((root / "chapters").glob("*.ipynb")) if nb not in listed]
    if not listed:
        problems.append("no notebook is listed in _toc.yml")
    return Ledger(root=root, notebooks=[notebook_claims(nb) for nb in listed], problems=problems)


def _problem_list(problems, prefix="") -> list[str]:
    """An HTML list of the problems (none without problems)."""
    items = "".join(f"<li>✗ {prefix}{html.escape(p)}</li>" for p in problems)
    return [f"<ul>{items}</ul>"] if problems else []


@dataclass
class Ledger:
    """Every claim of the book, by chapter and kind; displays as tables in a notebook."""

    root: Path
    notebooks: list[NotebookClaims]
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(nb.passed for nb in self.notebooks)

    def count(self, kind: str) -> int:
        return sum(nb.count(kind) for nb in self.notebooks)

    def all_problems(self) -> list[str]:
        return self.problems + [f"{nb.path.name}: {p}" for nb in self.notebooks
                                for p in nb.problems]

    def summary(self) -> str:
        c, r, d = (self.count(k) for k in KINDS)
        n = len(self.notebooks)
        k = len(self.all_problems())
        return (f"{c} claims, {r} refutations and {d} demonstrations in {n} chapter"
                f"{'s' if n != 1 else ''}: {self.passed} ✓, "
                f"{sum(nb.failed for nb in self.notebooks)} ✗"
                + (f"; {k} problem(s)" if k else "; no problems"))

    def raise_for_problems(self) -> None:
        """Raise :class:`LedgerError` listing every problem (do nothing if there is none)."""
        problems = self.all_problems()
        if problems:
            raise LedgerError("the claims ledger found problems:\n- " + "\n- ".join(problems))

    def __repr__(self) -> str:
        lines = [self.summary()]
        for i, nb in enumerate(self.notebooks, 1):
            counts = ", ".join(f"{nb.count(k)} {k}s" for k in KINDS)
            lines.append(f"{i}. {nb.title} ({nb.path.name}): {counts}")
            lines += [f"   {c.text(96)}" for c in nb.claims]
            lines += [f"   PROBLEM: {p}" for p in nb.problems]
        return "\n".join(lines + [f"PROBLEM: {p}" for p in self.problems])

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(f'<th scope="col">{k}s</th>' for k in KINDS)
        rows = []
        for i, nb in enumerate(self.notebooks, 1):
            cells = "".join(f"<td>{nb.count(k)}</td>" for k in KINDS)
            mark = "✓" if not nb.problems else "✗"
            rows.append(f'<tr><th scope="row"><a href="{e(nb.path.stem)}.html">{i}. '
                        f"{e(nb.title)}</a></th>{cells}<td>{nb.passed} {mark}</td></tr>")
        total = "".join(f"<td>{self.count(k)}</td>" for k in KINDS)
        out = ['<table class="sgdsim-claims sgdsim-ledger-counts">'  # records per chapter, kind
               f"<caption>{e(self.summary())}</caption>"
               f'<thead><tr><th scope="col">chapter</th>{head}'
               '<th scope="col">hold</th></tr></thead>'
               f"<tbody>{''.join(rows)}</tbody>"
               f"<tfoot><tr><th scope=\"row\">book</th>{total}<td>{self.passed}</td></tr>"
               "</tfoot></table>"] + _problem_list(self.problems)
        head = "".join(f'<th scope="col">{h}</th>' for h in _HEAD)  # a claims panel's columns
        for i, nb in enumerate(self.notebooks, 1):
            out.append(f'<h3 class="sgdsim-ledger-chapter"><a href="{e(nb.path.stem)}.html">'
                       f"{i}. {e(nb.title)}</a></h3>")
            out += _problem_list(nb.problems, "problem: ")
            for kind in KINDS:
                rows = []
                for c in (c for c in nb.claims if c.kind == kind):
                    name, *rest = c.cells()
                    sec = (f'<br><span class="sgdsim-section">{e(c.section)}</span>'
                           if c.section else "")
                    rows.append(f"<tr><td>{e(name)}{sec}</td>"
                                + "".join(f"<td>{e(x)}</td>" for x in rest) + "</tr>")
                if rows:
                    out.append(f'<table class="sgdsim-claims"><caption>{e(kind)}s ({len(rows)})'
                               f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
                               "</tbody></table>")
        return "\n".join(out)


@dataclass
class ResultsTable:
    """A results table of string cells: HTML on the website, text lines (<= 100 characters)
    elsewhere. A cell ``[text](#anchor)`` is a link in HTML and ``text`` in the text."""

    header: tuple
    rows: list
    caption: str = ""

    @staticmethod
    def _link(cell: str, as_html: bool) -> str:
        m = re.fullmatch(r"\[(.+)\]\((#[\w-]+)\)", cell)
        if m is None:
            return html.escape(cell) if as_html else cell
        return (f'<a href="{m.group(2)}">{html.escape(m.group(1))}</a>' if as_html
                else m.group(1))

    def _repr_html_(self) -> str:
        head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{self._link(str(c), True)}</td>" for c in r)
                       + "</tr>" for r in self.rows)
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<table class="sgdsim-claims">{cap}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        lines = [self.caption] if self.caption else []
        for r in [self.header, *self.rows]:
            line = " | ".join(self._link(str(c), False) for c in r)
            lines.append(line if len(line) <= 100 else line[:99] + "…")
        return "\n".join(lines)
