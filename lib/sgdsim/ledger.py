r"""The claims ledger: every claim the book checks, read from the chapters' stored outputs.

Each chapter states its numerical claims through :func:`sgdsim.check`, which prints one
uniform line per claim (:meth:`sgdsim.Claim.__str__`). The chapter notebooks are committed
*with* their outputs, and strict nbval (``make test``, CI) proves that those stored
outputs are what a fresh execution prints. So the stored outputs of the committed
notebooks are the verified state of the book, and this module reads them:

* :func:`notebook_claims` reads one notebook: its title, every claim line (parsed with
  :func:`sgdsim.checks.parse_claim_line`), and the *problems* that make its outputs
  untrustworthy or its verification empty -- outputs that are not one clean top-to-bottom
  run (a code cell never executed, or execution counts out of order: refresh them with
  ``make outputs``), a cell that raised, a failed claim, a line that looks like a claim
  but does not parse, or **no claim at all**;
* :func:`collect` reads every chapter notebook listed in ``_toc.yml`` (in book order),
  and flags a ``chapters/*.ipynb`` missing from the table of contents;
* a :class:`Ledger` renders as an HTML table in a notebook (and as text elsewhere);
  :meth:`Ledger.raise_for_problems` fails loudly, so a book with a problem does not build.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .checks import ClaimLine, parse_claim_line

__all__ = ["NotebookClaims", "Ledger", "LedgerError", "notebook_claims", "collect",
           "find_book_root", "toc_files"]


class LedgerError(RuntimeError):
    """The ledger found a problem: a failed, missing, or unverifiable claim."""


@dataclass
class NotebookClaims:
    """The claims of one notebook and the problems found in it."""

    path: Path
    title: str
    claims: list[ClaimLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.claims)

    @property
    def failed(self) -> int:
        return len(self.claims) - self.passed


_MARK_START = re.compile(r"^[✓✗] ")


def _claims(n: int) -> str:
    return f"{n} claim{'s' if n != 1 else ''}"


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _text(output) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def notebook_claims(path) -> NotebookClaims:
    """Read the claims printed in a notebook's stored outputs.

    Claim lines are read from the ``stdout`` stream outputs of the code cells. A line
    printed twice (e.g. again by a closing summary that prints the ledger) counts once.

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
    seen = set()
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
            if kind != "stream" or out.get("name") != "stdout":
                continue
            for line in _text(out).splitlines():
                parsed = parse_claim_line(line)
                if parsed is None:
                    if _MARK_START.match(line):
                        result.problems.append(f"a line looks like a claim but does not "
                                               f"parse: {line[:120]!r}")
                    continue
                if line in seen:
                    continue
                seen.add(line)
                result.claims.append(parsed)
    if any(c is None for c in counts):
        result.problems.append("stored outputs are incomplete (a code cell was never "
                               "executed): refresh them with `make outputs`")
    elif counts != list(range(1, len(counts) + 1)):
        result.problems.append("stored outputs are not one clean top-to-bottom run "
                               f"(execution counts {counts[:8]}...): refresh them with "
                               "`make outputs`")
    if not result.claims:
        result.problems.append("no claim is checked in this chapter")
    for c in result.claims:
        if not c.passed:
            result.problems.append(f"claim failed: {c.claim}")
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
    """Every claim of the book, by chapter; displays as a table in a notebook."""

    root: Path
    notebooks: list[NotebookClaims]
    problems: list[str] = field(default_factory=list)

    @property
    def claims(self) -> int:
        return sum(len(nb.claims) for nb in self.notebooks)

    @property
    def passed(self) -> int:
        return sum(nb.passed for nb in self.notebooks)

    def all_problems(self) -> list[str]:
        out = list(self.problems)
        for nb in self.notebooks:
            out += [f"{nb.path.name}: {p}" for p in nb.problems]
        return out

    def summary(self) -> str:
        failed = self.claims - self.passed
        chapters = f"{len(self.notebooks)} chapter{'s' if len(self.notebooks) != 1 else ''}"
        text = (f"{_claims(self.claims)} checked in {chapters}: "
                f"{self.passed} ✓, {failed} ✗")
        n = len(self.all_problems())
        return text + (f"; {n} problem(s)" if n else "; no problems")

    def raise_for_problems(self) -> None:
        """Raise :class:`LedgerError` listing every problem (do nothing if there is none)."""
        problems = self.all_problems()
        if problems:
            raise LedgerError("the claims ledger found problems:\n- " + "\n- ".join(problems))

    # -- rendering -------------------------------------------------------------------
    def to_text(self) -> str:
        lines = [self.summary()]
        for i, nb in enumerate(self.notebooks, 1):
            lines.append(f"{i}. {nb.title} ({nb.path.name}): {_claims(len(nb.claims))}, "
                         f"{nb.passed} ✓, {nb.failed} ✗")
            lines += [f"   {c}" for c in nb.claims]
            lines += [f"   PROBLEM: {p}" for p in nb.problems]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        e = html.escape
        out = [f"<p><strong>{e(self.summary())}</strong></p>"]
        if self.problems:
            out.append("<ul>" + "".join(f"<li>✗ {e(p)}</li>" for p in self.problems) + "</ul>")
        out.append('<table class="table claims-ledger">')
        out.append("<caption>Every claim checked in the book, as printed by its chapter"
                   "</caption>")
        out.append("<thead><tr>" + "".join(
            f'<th scope="col">{h}</th>' for h in
            ("Chapter", "Claim", "Predicted", "Measured", "Deviation", "Pass if", "✓/✗"))
            + "</tr></thead><tbody>")
        for i, nb in enumerate(self.notebooks, 1):
            href = e(f"{nb.path.stem}.html")
            rows = [
                f"<td>{e(c.claim)}</td><td>{e(c.predicted)}</td><td>{e(c.measured)}</td>"
                f"<td>{e(c.deviation)}</td><td>{e(c.tolerance)}</td><td>{e(c.mark)}</td>"
                for c in nb.claims
            ] + [
                f'<td colspan="5"><strong>problem:</strong> {e(p)}</td><td>✗</td>'
                for p in nb.problems
            ]
            chapter = (f'<th scope="rowgroup" rowspan="{len(rows)}">'
                       f'<a href="{href}">{i}. {e(nb.title)}</a></th>')
            out.append("<tbody>")
            for k, row in enumerate(rows):
                out.append(f"<tr>{chapter if k == 0 else ''}{row}</tr>")
            out.append("</tbody>")
        out.append("</table>")
        return "\n".join(out)
