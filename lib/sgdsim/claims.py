r"""Claims as data: what a chapter checks, recorded, displayed compactly, and read by the ledger.

A chapter makes one :class:`Claims` object and states everything it checks through it::

    claims = sgdsim.Claims("tz_theorem")
    claims.section("The slope at small rates")
    claims.check("slope = E g² / 4", slope_estimate, predicted=0.894)
    claims.refute("slides' slope = E g² / 8", slope_estimate, 0.894 / 2)
    claims.panel()            # the section's claims as one small table

A **claim** tests a prediction against an independent one, statistically
(:math:`|m - p| \le z\,\mathrm{se}`) or numerically (:math:`|m - p| \le \mathrm{atol} +
\mathrm{rtol}\,|p|`); a **refutation** passes when that test fails for a wrong reading; a
**demonstration** is shown, not tested. A failure raises :class:`ClaimFailed` at once. Each
tested record stores the smallest deviation its test detects (:math:`z\,\mathrm{se}` or the
tolerance). Displays are rounded to what the statistics support, so stored outputs are the same
on every CPU; full precision travels in the output metadata (:data:`METADATA_KEY`), read by the
ledger. With :math:`z = 4` a correct simulator fails any of ~100 claims with probability < 1 %.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field

__all__ = ["Claims", "Record", "ClaimFailed", "KINDS", "METADATA_KEY", "format_value"]

#: The kinds of record, in display order.
KINDS = ("claim", "refutation", "demonstration")
#: Key of the output metadata that carries the records (read by :mod:`sgdsim.ledger`).
METADATA_KEY = "sgdsim_claims"
#: Longest line of a text display (the book's text column).
TEXT_WIDTH = 100
#: Beyond this many decimals a value with an error is shown in scientific notation.
_MAX_FIXED_DECIMALS = 6
#: A numerical tolerance at least this fraction of the prediction lets the value be shown.
_COARSE_TOL = 1e-6


class ClaimFailed(AssertionError):
    """A checked claim (or refutation) did not hold."""


def _decimals_for(err: float, sig: int = 2) -> int:
    """Decimal places that show ``err`` to ``sig`` significant digits."""
    return max(0, sig - 1 - int(math.floor(math.log10(err))))


def _sci(x: float, sig: int) -> str:
    """``x`` in scientific notation with ``sig`` significant digits and a readable exponent."""
    mant, exp = f"{x:.{sig - 1}e}".split("e")
    return f"{mant}e{int(exp)}"


def _fixed(x: float, err: float) -> str | None:
    """``x`` to the decimals of two digits of ``err``; ``None`` when that is too many."""
    d = _decimals_for(err)
    return f"{x:.{d}f}" if d <= _MAX_FIXED_DECIMALS and abs(x) < 1e6 else None


def _sci_to(x: float, err: float) -> str:
    """``x`` in scientific notation to the absolute digit of two digits of ``err``."""
    e_x = int(math.floor(math.log10(abs(x)))) if x else 0
    return _sci(x, max(1, e_x - int(math.floor(math.log10(err))) + 2))


def format_value(value: float, stderr: float | None = None, sig: int = 3) -> str:
    """``value`` rounded to its error's two significant digits, or to ``sig`` digits.

    Examples
    --------
    >>> format_value(0.890912, 0.00171)
    '0.8909 ± 0.0017'
    >>> format_value(2.5e-05, 1.3e-06)
    '2.50e-5 ± 1.3e-6'
    >>> format_value(0.894127)
    '0.894'
    """
    value = float(value)
    if stderr is not None and stderr > 0 and math.isfinite(stderr):
        shown = _fixed(value, stderr)
        if shown is None:
            return f"{_sci_to(value, stderr)} ± {_sci(stderr, 2)}"
        return f"{shown} ± {stderr:.{_decimals_for(stderr)}f}"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return _sci(value, sig)
    return f"{value:.{sig}g}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _format_sigmas(s: float) -> str:
    if abs(s) < 10:
        return f"{s:+.1f}σ"
    if abs(s) < 1000:
        return f"{s:+.0f}σ"
    return f"{'+' if s > 0 else '−'}>999σ"


def _format_tol(t: float) -> str:
    """A tolerance (a bound, not a measurement)."""
    if t == 0:
        return "0"
    if 1e-3 <= t < 1e4:
        return f"{t:.2g}"
    return _sci(t, 1)


def _format_percent(x: float) -> str:
    p = 100 * x
    if p >= 1000:
        return f"{_sci(p, 2)} %"
    if p >= 10:
        return f"{p:.0f} %"
    if p >= 0.1:
        return f"{p:.2g} %"
    return f"{_sci(p, 1)} %"


@dataclass(frozen=True)
class Record:
    r"""One recorded claim, refutation or demonstration, in full precision.

    ``n`` numbers it in the chapter; ``predicted`` is, for a refutation, the wrong value it
    rejects, and ``predicted_text`` a prediction that is not a number (``"> 0"``); ``passed``
    is ``None`` for a demonstration; ``resolution`` is relative to :math:`|p|` if
    ``relative``; ``note`` says in a few words what it shows or rejects.
    """

    n: int
    name: str
    kind: str
    section: str
    measured: float | None
    stderr: float | None = None
    predicted: float | None = None
    predicted_text: str | None = None
    rtol: float | None = None
    atol: float | None = None
    z: float = 4.0
    passed: bool | None = None
    resolution: float | None = None
    relative: bool = False
    note: str = ""

    @property
    def sigmas(self) -> float | None:
        """Deviation (measured − predicted) in standard errors."""
        if self.stderr is None or self.predicted is None or self.measured is None:
            return None
        return (self.measured - self.predicted) / self.stderr

    @property
    def verdict(self) -> str:
        return "·" if self.passed is None else ("✓" if self.passed else "✗")

    def _tolerance(self) -> float | None:
        if self.rtol is None and self.atol is None:
            return None
        return (self.atol or 0.0) + (self.rtol or 0.0) * abs(self.predicted or 0.0)

    def measured_text(self) -> str:
        if self.measured is None:
            return "—"
        if self.stderr is not None:
            return format_value(self.measured, self.stderr)
        tol = self._tolerance()
        if tol is not None and self.predicted is not None:
            # never round-off digits: a coarse tolerance (>= 1e-6 of a nonzero prediction)
            # shows two digits of the tolerance; a fine one only the verdict
            p = abs(self.predicted)
            if p > 0 and tol >= _COARSE_TOL * p and math.isfinite(self.measured):
                shown = _fixed(self.measured, tol)
                if shown is not None:
                    return shown
            return "within tol." if self.kind != "refutation" else "outside tol."
        return format_value(self.measured)

    def predicted_text_(self) -> str:
        if self.predicted_text is not None:
            return self.predicted_text
        if self.predicted is None:
            return "—"
        p, err, tol = self.predicted, self.stderr, self._tolerance()
        if err is None and tol is not None and p != 0 and tol >= _COARSE_TOL * abs(p):
            err = tol
        if err is not None:  # to the digits of the measurement
            shown = _fixed(p, err)
            if shown is not None:
                return shown
            if self.stderr is not None and p != 0:
                return _sci_to(p, err)
        return format_value(p, sig=4)

    def deviation_text(self) -> str:
        s = self.sigmas
        if s is not None:
            return _format_sigmas(s)
        tol = self._tolerance()
        if tol is not None:
            op = ">" if self.kind == "refutation" else "≤"
            rel = self.rtol and not self.atol and self.predicted
            return f"{op} {_format_tol(self.rtol) + ' rel.' if rel else _format_tol(tol)}"
        return "—"

    def resolution_text(self) -> str:
        if self.resolution is None:
            return "—"
        if self.relative:
            return "±" + _format_percent(self.resolution)
        return "±" + _format_tol(self.resolution)

    def cells(self) -> tuple[str, str, str, str, str, str]:
        """(name, measured, predicted, deviation, resolves, verdict) as displayed."""
        return (self.name, self.measured_text(), self.predicted_text_(), self.deviation_text(),
                self.resolution_text(), self.verdict)

    def text(self, width: int = TEXT_WIDTH) -> str:
        """One short line (at most ``width`` characters)."""
        _, meas, pred, dev, res, mark = self.cells()
        tail = f": {meas} vs {pred}"
        if dev != "—":
            tail += f" ({dev})"
        if self.kind == "refutation":
            tail += " rejected"
        head = f"{mark} "
        room = width - len(head) - len(tail)
        name = self.name if len(self.name) <= room else self.name[: max(room - 1, 8)] + "…"
        line = head + name + tail
        return line if len(line) <= width else line[: width - 1] + "…"

    @classmethod
    def from_dict(cls, d: dict) -> "Record":
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in names})


def _value_and_stderr(measured, stderr, where):
    """Accept a number or anything with ``.value`` and ``.stderr`` (an Estimate, a Fit slope)."""
    if hasattr(measured, "value") and hasattr(measured, "stderr"):
        if stderr is None:
            stderr = measured.stderr
        measured = measured.value
    try:
        m = float(measured)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: measured must be a number or an Estimate, "
                        f"got {type(measured).__name__}") from None
    if not math.isfinite(m):
        raise ValueError(f"{where}: the measured value is {m}: a diverged or empty run? "
                         "Check the simulation before stating a claim about it")
    if stderr is not None:
        se = float(stderr)
        if not (math.isfinite(se) and se > 0):
            raise ValueError(f"{where}: stderr must be finite and > 0, got {stderr!r} (use "
                             "rtol=/atol= for an exact value)")
        stderr = se
    return m, stderr


def _bound(v, what, *, positive=False):
    """``v`` as a finite float >= 0 (> 0 if ``positive``); ``None`` stays ``None``."""
    if v is None:
        return None
    v = float(v)
    if not (math.isfinite(v) and (v > 0 if positive else v >= 0)):
        raise ValueError(f"{what} must be finite and {'>' if positive else '>='} 0, got {v!r}")
    return v


@dataclass
class Claims:
    """Everything one ``chapter`` (its notebook's stem) checks, in order, by section.

    ``z`` is the default number of standard errors a statistical claim may deviate.
    """

    chapter: str
    z: float = 4.0
    records: list[Record] = field(default_factory=list)
    current_section: str = ""
    _shown: int = 0

    def __post_init__(self):
        if not (isinstance(self.chapter, str) and self.chapter.strip()):
            raise ValueError("Claims(chapter): give the chapter's name, e.g. Claims('langevin')")
        self.z = self._z(self.z)

    @staticmethod
    def _z(z) -> float:
        return _bound(float(z), "z", positive=True)

    def section(self, title: str) -> "Claims":
        """Start a section: the records that follow belong to it (until the next section)."""
        if not (isinstance(title, str) and title.strip()):
            raise ValueError("section(title): the title must be a non-empty string")
        self.current_section = title.strip()
        return self

    def _add(self, **kw) -> None:
        # returns None, so that a cell ending in a check displays nothing (the panel does)
        rec = Record(n=len(self.records) + 1, section=self.current_section, **kw)
        self.records.append(rec)
        if rec.passed is False:
            raise ClaimFailed(f"{self.chapter}: {rec.kind} failed -- {rec.text(10_000)}"
                              + (f" [test: {self._test_text(rec)}]"))

    @staticmethod
    def _test_text(rec: Record) -> str:
        parts = []
        op = ">" if rec.kind == "refutation" else "≤"
        if rec.stderr is not None:
            parts.append(f"|m − p| {op} {rec.z:g}·se = {rec.z * rec.stderr:.3g}")
        tol = rec._tolerance()
        if tol is not None:
            parts.append(f"|m − p| {op} {tol:.3g}")
        if rec.measured is not None and rec.predicted is not None:
            parts.append(f"measured {rec.measured!r}, predicted {rec.predicted!r}")
        return "; ".join(parts)

    def _test(self, name, measured, predicted, stderr, rtol, atol, z, where):
        if not (isinstance(name, str) and name.strip()):
            raise ValueError(f"{where}: the claim needs a name (what is claimed, in words)")
        m, se = _value_and_stderr(measured, stderr, f"{where}({name!r})")
        try:
            p = float(predicted)
        except (TypeError, ValueError):
            raise TypeError(f"{where}({name!r}): predicted must be a number") from None
        if not math.isfinite(p):
            raise ValueError(f"{where}({name!r}): the prediction is {p}")
        rtol = _bound(rtol, f"{where}({name!r}): rtol")
        atol = _bound(atol, f"{where}({name!r}): atol")
        if se is None and rtol is None and atol is None:
            raise ValueError(f"{where}({name!r}) needs a tolerance: a measured Estimate, "
                             "stderr=, rtol= or atol=")
        z = self.z if z is None else self._z(z)
        dev = abs(m - p)
        ok = True
        widths = []
        if se is not None:
            ok &= dev <= z * se
            widths.append(z * se)
        if rtol is not None or atol is not None:
            tol = (atol or 0.0) + (rtol or 0.0) * abs(p)
            ok &= dev <= tol
            widths.append(tol)
        width = min(widths)  # both must hold: the tighter one decides what is detected
        relative = p != 0
        resolution = width / abs(p) if relative else width
        return dict(name=name.strip(), measured=m, stderr=se, predicted=p, rtol=rtol, atol=atol,
                    z=z, resolution=resolution, relative=relative), bool(ok)

    def check(self, name, measured, predicted, *, stderr=None, rtol=None, atol=None, z=None,
              note: str = "") -> None:
        r"""A claim: the measurement agrees with an independent prediction.

        Passes when every tolerance given holds: :math:`|m - p| \le z\,\mathrm{se}` (``stderr``,
        or a measured Estimate's) and :math:`|m - p| \le \mathrm{atol} + \mathrm{rtol}\,|p|`;
        raises :class:`ClaimFailed` otherwise. ``name`` says what is claimed (a table row).
        """
        fields, ok = self._test(name, measured, predicted, stderr, rtol, atol, z, "check")
        return self._add(kind="claim", passed=ok, note=note, **fields)

    def refute(self, name, measured, wrong, *, stderr=None, rtol=None, atol=None, z=None,
               note: str = "") -> None:
        r"""A refutation: the data reject a plausible but wrong prediction ``wrong``.

        The mirror of :meth:`check`: raises :class:`ClaimFailed` when the measurement is still
        compatible with the wrong value. Say in ``name`` or ``note`` what reading is rejected.
        """
        fields, agrees = self._test(name, measured, wrong, stderr, rtol, atol, z, "refute")
        return self._add(kind="refutation", passed=not agrees, note=note, **fields)

    def positive(self, name, measured, *, stderr=None, z=None, kind: str = "claim",
                 note: str = "") -> None:
        r"""A one-sided claim, "this quantity is positive": passes when :math:`m > z\,\mathrm{se}`.

        With ``kind="demonstration"`` the result is shown and not tested (use it for an
        ordering so strong that the test could not fail).
        """
        if kind not in ("claim", "demonstration"):
            raise ValueError(f"positive(kind=...): 'claim' or 'demonstration', got {kind!r}")
        m, se = _value_and_stderr(measured, stderr, f"positive({name!r})")
        if se is None:
            raise ValueError(f"positive({name!r}) needs a standard error: stderr= or an Estimate")
        z = self.z if z is None else self._z(z)
        passed = None if kind == "demonstration" else bool(m > z * se)
        return self._add(kind=kind, name=name.strip(), measured=m, stderr=se, predicted=0.0,
                         predicted_text="> 0", z=z, passed=passed,
                         resolution=None if passed is None else z * se, relative=False,
                         note=note)

    def observe(self, name, a, b, *, z=None, note: str = "") -> None:
        r"""A demonstration: how two estimates are ordered (ratio ``a/b``), asserting nothing.

        ``a`` is lower (higher) than ``b`` when :math:`a - b < -z\,\mathrm{se}` (:math:`>
        z\,\mathrm{se}`), else not resolved; shown as the ratio with its standard error.
        """
        where = f"observe({name!r})"
        for nm, e in (("a", a), ("b", b)):
            if not (hasattr(e, "value") and hasattr(e, "stderr")):
                raise TypeError(f"{where}: {nm} must be an Estimate (value ± stderr)")
        if b.value == 0:
            raise ValueError(f"{where}: b is 0, so the ratio a/b is undefined")
        d, d_se = a.value - b.value, math.hypot(a.stderr, b.stderr)
        r = a.value / b.value
        r_se = abs(r) * math.hypot(a.stderr / a.value if a.value else 0.0, b.stderr / b.value)
        if not (d_se > 0 and r_se > 0):
            raise ValueError(f"{where}: the estimates need positive standard errors")
        z = self.z if z is None else self._z(z)
        s = d / d_se
        shown = "lower" if s < -z else "higher" if s > z else f"not resolved at {z:g}σ"
        return self._add(kind="demonstration", name=name.strip(), measured=r, stderr=r_se,
                         predicted=None, predicted_text=shown, z=z, passed=None,
                         note=note or f"a − b at {s:+.1f}σ")

    def demonstrate(self, name, measured, predicted=None, *, stderr=None, note: str = "") -> None:
        """A demonstration: a result shown, not tested (no verdict, not counted as verified)."""
        if not (isinstance(name, str) and name.strip()):
            raise ValueError("demonstrate: the record needs a name")
        m, se = _value_and_stderr(measured, stderr, f"demonstrate({name!r})")
        p = None if predicted is None else float(predicted)
        return self._add(kind="demonstration", name=name.strip(), measured=m, stderr=se,
                         predicted=p, passed=None, note=note)

    def panel(self, title: str | None = None) -> "ClaimsTable":
        """The claims recorded since the previous panel, as one small table (display it)."""
        new = self.records[self._shown:]
        self._shown = len(self.records)
        if not new:
            raise ValueError("panel(): no claim was recorded since the previous panel")
        return ClaimsTable(self.chapter, new, title or new[-1].section,
                           recorded=len(self.records))

    def summary(self) -> "ClaimsSummary":
        """The chapter's claims counted by section and kind (its records travel as data)."""
        if not self.records:
            raise ValueError("summary(): this chapter recorded no claim")
        self._shown = len(self.records)
        return ClaimsSummary(self.chapter, list(self.records))


def _tally(records) -> list[int]:
    """[claims, refutations, demonstrations, passed]."""
    return [sum(r.kind == k for r in records) for k in KINDS] + [
        sum(r.passed is True for r in records)]


class _Display:
    """Displayed as text and HTML, with the records in the output's metadata."""

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"text/plain": repr(self), "text/html": self._repr_html_()}
        role, recorded = self._role()
        return data, {METADATA_KEY: {"chapter": self.chapter, "role": role, "recorded": recorded,
                                     "records": [asdict(r) for r in self.records]}}


_HEAD = ("claim", "measured", "predicted", "deviation", "resolves", "")
_KIND_LABEL = {"claim": "", "refutation": " (refuted)", "demonstration": " (shown)"}


@dataclass
class ClaimsTable(_Display):
    """A section's claims panel: an HTML table, a short text form, and the records as metadata."""

    chapter: str
    records: list[Record]
    title: str = ""
    recorded: int = 0

    def _role(self):
        return "panel", self.recorded

    def _counts_line(self) -> str:
        c, f, d, ok = _tally(self.records)
        parts = [_count(c, "claim")]
        if f:
            parts.append(_count(f, "refutation"))
        if d:
            parts.append(f"{d} shown")
        return ", ".join(parts) + f": {ok} ✓"

    def _repr_html_(self) -> str:
        e = html.escape
        rows = []
        for r in self.records:
            name, meas, pred, dev, res, mark = r.cells()
            label = e(name) + (f'<span class="sgdsim-kind">{_KIND_LABEL[r.kind]}</span>'
                               if _KIND_LABEL[r.kind] else "")
            rows.append(f"<tr><td>{label}</td><td>{e(meas)}</td><td>{e(pred)}</td>"
                        f"<td>{e(dev)}</td><td>{e(res)}</td><td>{e(mark)}</td></tr>")
        caption = e(f"Claims — {self.title}: " if self.title else "Claims: ") + e(
            self._counts_line())
        head = "".join(f'<th scope="col">{h}</th>' for h in _HEAD)
        return (f'<table class="sgdsim-claims"><caption>{caption}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def __repr__(self) -> str:
        head = f"Claims — {self.title}: " if self.title else "Claims: "
        lines = [(head + self._counts_line())[:TEXT_WIDTH]]
        lines += [r.text() for r in self.records]
        return "\n".join(lines)


@dataclass
class ClaimsSummary(_Display):
    """A chapter's claims counted by section and kind; all records travel as metadata."""

    chapter: str
    records: list[Record]

    def _role(self):
        return "summary", len(self.records)

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        """(section, claims, refutations, demonstrations, passed) in order of appearance."""
        return [(s or "(no section)", *_tally([r for r in self.records if r.section == s]))
                for s in dict.fromkeys(r.section for r in self.records)]

    def _repr_html_(self) -> str:
        e = html.escape
        body = "".join(f"<tr><td>{e(s)}</td><td>{c}</td><td>{f}</td><td>{d}</td>"
                       f"<td>{p} ✓</td></tr>" for s, c, f, d, p in self.rows())
        c, f, d, p = _tally(self.records)
        return ('<table class="sgdsim-claims sgdsim-claims-summary">'
                f"<caption>Every check of this chapter: {_count(c, 'claim')}, "
                f"{_count(f, 'refutation')}, {_count(d, 'demonstration')}; {p} of {c + f} "
                "tested hold</caption>"
                '<thead><tr><th scope="col">section</th><th scope="col">claims</th>'
                '<th scope="col">refutations</th><th scope="col">shown</th>'
                f'<th scope="col">verdict</th></tr></thead><tbody>{body}</tbody>'
                f"<tfoot><tr><td>total</td><td>{c}</td><td>{f}</td><td>{d}</td>"
                f"<td>{p} ✓</td></tr></tfoot></table>")

    def __repr__(self) -> str:
        c, f, d, p = _tally(self.records)
        lines = [f"{_count(c, 'claim')}, {_count(f, 'refutation')}, "
                 f"{_count(d, 'demonstration')}; {p} of {c + f} tested hold"]
        for s, c, f, d, p in self.rows():
            tail = f": {_count(c, 'claim')}, {f} refuted, {d} shown, {p} ✓"
            room = TEXT_WIDTH - len(tail) - 2
            lines.append("- " + (s if len(s) <= room else s[: room - 1] + "…") + tail)
        return "\n".join(lines)
