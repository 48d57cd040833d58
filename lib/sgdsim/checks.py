r"""``check``: the one way a notebook states a claim and lets it fail.

A claim compares a measured value with a prediction. It passes when every
tolerance given holds:

* ``stderr`` -- statistical: :math:`|m - p| \le z\,\mathrm{se}`. The default
  :math:`z = 4` is a family-wise choice: the book makes on the order of a
  hundred statistical claims, and with :math:`z=4` (two-sided
  :math:`p = 6\times10^{-5}` each) a correct simulator fails any of them with
  probability below 1 %, while a wrong constant (a factor 2 or 5) is
  many standard errors off;
* ``rtol`` / ``atol`` -- numerical: :math:`|m - p| \le \mathrm{atol} + \mathrm{rtol}\,|p|`.

:func:`check` prints one rounded line and raises :class:`ClaimFailed` when the
claim fails, so a wrong simulator stops the notebook, nbval and the build.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace

import numpy as np

__all__ = ["Claim", "ClaimFailed", "ClaimLine", "check", "evaluate", "refute", "format_value",
           "parse_claim_line", "OneSidedClaim", "check_positive"]


from .claims import ClaimFailed  # one exception for old and new (this module is retired)


def _decimals_for(err: float, sig: int = 2) -> int:
    """Decimal places that show ``err`` to ``sig`` significant digits."""
    if not (err > 0 and math.isfinite(err)):
        return 6
    return max(0, sig - 1 - int(math.floor(math.log10(err))))


def format_value(value: float, stderr: float | None = None, sig: int = 4) -> str:
    """Round ``value`` to what is meaningful: to its standard error's 2 digits, else ``sig``."""
    value = float(value)
    if stderr is not None and stderr > 0 and math.isfinite(stderr):
        d = _decimals_for(stderr)
        if abs(value) >= 1e5 or (value != 0 and abs(value) < 1e-4):
            return f"{value:.{sig}e} ± {stderr:.2g}"
        return f"{value:.{d}f} ± {stderr:.{d}f}"
    return f"{value:.{sig}g}"


@dataclass(frozen=True)
class Claim:
    """The outcome of one :func:`check`."""

    claim: str
    measured: float
    predicted: float
    stderr: float | None
    rtol: float | None
    atol: float | None
    z: float
    passed: bool
    #: ``True`` for a refutation (:func:`refute`): it passes when the data reject the prediction.
    refutes: bool = False

    @property
    def deviation(self) -> float:
        """Measured minus predicted."""
        return self.measured - self.predicted

    @property
    def sigmas(self) -> float | None:
        """Deviation in standard errors (``None`` without a standard error)."""
        if not self.stderr:
            return None
        return self.deviation / self.stderr

    @property
    def rel_error(self) -> float | None:
        """Deviation relative to the prediction (``None`` when the prediction is 0)."""
        return None if self.predicted == 0 else self.deviation / abs(self.predicted)

    def tolerance_text(self) -> str:
        op = ">" if self.refutes else "≤"
        parts = []
        if self.stderr:
            parts.append(f"|dev| {op} {self.z:g}σ")
        if self.rtol is not None or self.atol is not None:
            if self.rtol and not self.atol:
                parts.append(f"rel {op} {self.rtol:.2g}")
            elif self.atol and not self.rtol:
                parts.append(f"|dev| {op} {self.atol:.2g}")
            else:
                parts.append(f"|dev| {op} {self.atol or 0:.2g} + {self.rtol or 0:.2g}·|pred|")
        text = (" or " if self.refutes else " and ").join(parts)
        return text + " (the prediction is rejected)" if self.refutes else text

    def __str__(self) -> str:
        mark = "✓" if self.passed else "✗"
        meas = format_value(self.measured, self.stderr)
        digits = _decimals_for(self.stderr) if self.stderr else None
        pred = (f"{self.predicted:.{digits}f}" if digits is not None
                and 1e-4 <= abs(self.predicted) < 1e5 else format_value(self.predicted))
        dev = []
        if self.sigmas is not None:
            dev.append(f"{self.sigmas:+.1f}σ")
        if self.rel_error is not None:
            dev.append(f"{100 * self.rel_error:+.2g}%")
        elif self.stderr is None:
            dev.append(f"{self.deviation:+.2g}")
        return (f"{mark} {self.claim}: measured {meas} | predicted {pred} | "
                f"deviation {', '.join(dev)} | pass if {self.tolerance_text()}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(sigmas=self.sigmas, rel_error=self.rel_error)
        return d


def evaluate(claim: str, measured, predicted, *, stderr=None, rtol=None, atol=None,
             z: float = 4.0) -> Claim:
    r"""Evaluate a numerical claim without printing or raising; see :func:`check`."""
    if hasattr(measured, "stderr") and hasattr(measured, "value"):
        if stderr is None:
            stderr = measured.stderr
        measured = measured.value
    m, p = float(measured), float(predicted)
    if not (math.isfinite(m) and math.isfinite(p)):
        raise ValueError(f"check({claim!r}): measured={m} and predicted={p} must be finite")
    if stderr is None and rtol is None and atol is None:
        raise ValueError(f"check({claim!r}) needs a tolerance: stderr=, rtol= or atol=")
    for name, v in (("stderr", stderr), ("rtol", rtol), ("atol", atol)):
        if v is not None and not (math.isfinite(float(v)) and float(v) >= 0):
            raise ValueError(f"check({claim!r}): {name} must be finite and >= 0, got {v!r}")
    if not (math.isfinite(z) and z > 0):
        raise ValueError(f"z must be > 0, got {z!r}")
    dev = abs(m - p)
    ok = True
    if stderr is not None:
        if float(stderr) == 0:
            raise ValueError(f"check({claim!r}): stderr is 0; use rtol/atol for exact values")
        ok &= dev <= z * float(stderr)
    if rtol is not None or atol is not None:
        ok &= dev <= (atol or 0.0) + (rtol or 0.0) * abs(p)
    return Claim(claim=claim, measured=m, predicted=p,
                 stderr=None if stderr is None else float(stderr),
                 rtol=None if rtol is None else float(rtol),
                 atol=None if atol is None else float(atol), z=float(z), passed=bool(ok))


def check(claim: str, measured, predicted, *, stderr=None, rtol=None, atol=None,
          z: float = 4.0, ledger: list | None = None) -> None:
    r"""Check a numerical claim: print one rounded line, and raise if it fails.

    It returns nothing, so a call at the end of a notebook cell adds no
    ``Out[...]`` to the page; pass ``ledger=`` (a list) to collect the
    :class:`Claim` records, or use :func:`evaluate` to get one without printing.

    Parameters
    ----------
    claim : str
        What is claimed, in words.
    measured : float or Estimate
        The measurement (an :class:`~sgdsim.estimators.Estimate` brings its
        own standard error).
    predicted : float
        The theoretical value.
    stderr : float, optional
        Standard error of ``measured``; the claim needs
        :math:`|m-p| \le z\cdot\mathrm{stderr}`.
    rtol, atol : float, optional
        Numerical tolerances: :math:`|m - p| \le \mathrm{atol} + \mathrm{rtol}|p|`.
    z : float
        Standard errors allowed (default 4; see the module notes).
    ledger : list, optional
        The :class:`Claim` is appended to it (before raising, if it fails).

    Raises
    ------
    ClaimFailed
        If a tolerance is violated.
    ValueError
        If no tolerance is given or an input is not finite.
    """
    result = evaluate(claim, measured, predicted, stderr=stderr, rtol=rtol, atol=atol, z=z)
    print(result)
    if ledger is not None:
        ledger.append(result)
    if not result.passed:
        raise ClaimFailed(str(result))


# --------------------------------------------------------------------------- reading lines
#: The line :meth:`Claim.__str__` prints, field by field.
_CLAIM_LINE = re.compile(
    r"^(?P<mark>[✓✗]) (?P<claim>.+): measured (?P<measured>[^|]+?) \| "
    r"predicted (?P<predicted>[^|]+?) \| deviation (?P<deviation>[^|]*?) \| "
    r"pass if (?P<tolerance>.+)$"
)


@dataclass(frozen=True)
class ClaimLine:
    """A claim as printed by :func:`check`, read back from its one line of text.

    The fields are the printed (rounded) strings; ``str(line)`` gives the line back.
    """

    mark: str
    claim: str
    measured: str
    predicted: str
    deviation: str
    tolerance: str

    @property
    def passed(self) -> bool:
        return self.mark == "✓"

    def __str__(self) -> str:
        return (f"{self.mark} {self.claim}: measured {self.measured} | predicted "
                f"{self.predicted} | deviation {self.deviation} | pass if {self.tolerance}")


def parse_claim_line(line: str) -> ClaimLine | None:
    """Read one line printed by :func:`check` back into its fields.

    Returns ``None`` when ``line`` is not a claim line (any other output). The inverse
    of ``str(claim)``: ``str(parse_claim_line(str(c))) == str(c)`` for every
    :class:`Claim` ``c``.

    Examples
    --------
    >>> c = parse_claim_line("✓ slope: measured 0.2503 ± 0.0012 | predicted 0.2500 | "
    ...                      "deviation +0.3σ, +0.12% | pass if |dev| ≤ 4σ")
    >>> c.claim, c.measured, c.passed
    ('slope', '0.2503 ± 0.0012', True)
    """
    m = _CLAIM_LINE.match(line.rstrip("\r\n"))
    return None if m is None else ClaimLine(**m.groupdict())


def refute(claim: str, measured, predicted, *, stderr=None, rtol=None, atol=None,
           z: float = 4.0, ledger: list | None = None) -> None:
    r"""Check that the data *reject* a (wrong) prediction: print one line, raise if they don't.

    The mirror of :func:`check`, for showing that a tempting but wrong value --
    a slide's constant, a naive reading -- is ruled out by the measurement: it
    passes when the deviation exceeds the tolerance (:math:`|m-p| > z\,\mathrm{se}`,
    or beyond ``atol + rtol |p|``), and raises :class:`ClaimFailed` when the
    measurement is still compatible with the prediction. Parameters as in :func:`check`.
    """
    agree = evaluate(claim, measured, predicted, stderr=stderr, rtol=rtol, atol=atol, z=z)
    result = replace(agree, passed=not agree.passed, refutes=True)
    print(result)
    if ledger is not None:
        ledger.append(result)
    if not result.passed:
        raise ClaimFailed(str(result))


@dataclass(frozen=True)
class OneSidedClaim(Claim):
    """The outcome of one :func:`check_positive`: the claim is ``measured > 0``."""

    def tolerance_text(self) -> str:
        return f"measured > {self.z:g}σ"

    def __str__(self) -> str:
        mark = "✓" if self.passed else "✗"
        meas = format_value(self.measured, self.stderr)
        return (f"{mark} {self.claim}: measured {meas} | predicted > 0 | "
                f"deviation {self.sigmas:+.1f}σ from 0 | pass if {self.tolerance_text()}")


def check_positive(claim: str, measured, *, stderr=None, z: float = 4.0,
                   ledger: list | None = None) -> None:
    r"""Check a one-sided claim, "this quantity is positive": print a line, raise if it fails.

    The claim passes when :math:`m > z\,\mathrm{se}`, i.e. when the
    measurement is more than ``z`` standard errors above zero. Use it for orderings
    ("the plateau after a drop is lower": pass the per-chain differences
    before - after through :func:`~sgdsim.estimators.chain_mean`).

    Parameters
    ----------
    claim : str
    measured : float or Estimate
        An :class:`~sgdsim.estimators.Estimate` brings its own standard error.
    stderr : float > 0, optional
        Required when ``measured`` is a plain number.
    z : float
        Standard errors required above zero (default 4, as for :func:`check`).
    ledger : list, optional
        The :class:`OneSidedClaim` is appended to it (before raising, if it fails).

    Raises
    ------
    ClaimFailed
        If ``measured <= z * stderr``.
    ValueError
        If the standard error is missing, not positive, or an input is not finite.
    """
    if hasattr(measured, "stderr") and hasattr(measured, "value"):
        if stderr is None:
            stderr = measured.stderr
        measured = measured.value
    if stderr is None:
        raise ValueError(f"check_positive({claim!r}) needs a standard error: stderr= or an Estimate")
    m, se = float(measured), float(stderr)
    if not (math.isfinite(m) and math.isfinite(se) and se > 0):
        raise ValueError(
            f"check_positive({claim!r}): measured={m} must be finite and stderr={se} finite and > 0"
        )
    if not (math.isfinite(z) and z > 0):
        raise ValueError(f"z must be > 0, got {z!r}")
    result = OneSidedClaim(claim=claim, measured=m, predicted=0.0, stderr=se, rtol=None,
                           atol=None, z=float(z), passed=bool(m > z * se))
    print(result)
    if ledger is not None:
        ledger.append(result)
    if not result.passed:
        raise ClaimFailed(str(result))
