import numpy as np
import pytest

import sgdsim
from sgdsim.checks import evaluate, format_value


def test_check_passes_and_prints_one_rounded_line(capsys):
    ledger = []
    assert sgdsim.check("slope", 0.25031234, 0.25, stderr=0.0012345, ledger=ledger) is None
    out = capsys.readouterr().out.strip()
    (c,) = ledger
    assert out == ("✓ slope: measured 0.2503 ± 0.0012 | predicted 0.2500 | "
                   "deviation +0.3σ, +0.12% | pass if |dev| ≤ 4σ")
    assert c.passed and c.sigmas == pytest.approx(0.253, abs=1e-3)


def test_check_fails_loudly():
    with pytest.raises(sgdsim.ClaimFailed, match="✗ alpha"):
        sgdsim.check("alpha", 0.1, 0.5, stderr=0.01)
    with pytest.raises(sgdsim.ClaimFailed):
        sgdsim.check("order", 1.2, 1.0, rtol=0.05)


def test_check_requires_every_tolerance_given():
    # within 4 sigma but outside 1 % -> fails
    with pytest.raises(sgdsim.ClaimFailed):
        sgdsim.check("both", 1.03, 1.0, stderr=0.01, rtol=0.01)
    assert evaluate("both", 1.005, 1.0, stderr=0.01, rtol=0.01).passed
    assert not evaluate("both", 1.05, 1.0, stderr=0.01, rtol=0.1).passed


def test_check_accepts_estimates(capsys):
    sgdsim.check("mean", sgdsim.Estimate(2.01, 0.02), 2.0)
    assert "2.010 ± 0.020" in capsys.readouterr().out


def test_check_exact_claims_use_atol(capsys):
    sgdsim.check("max error", 3e-13, 0.0, atol=1e-10)
    assert "pass if |dev| ≤ 1e-10" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(), "needs a tolerance"),
        (dict(stderr=0.0), "stderr is 0"),
        (dict(stderr=-1.0), "stderr must be"),
        (dict(rtol=np.nan), "rtol must be"),
        (dict(stderr=1.0, z=0), "z must be"),
    ],
)
def test_check_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        evaluate("c", 1.0, 1.0, **kwargs)
    with pytest.raises(ValueError, match="finite"):
        sgdsim.check("c", np.nan, 1.0, rtol=0.1)


def test_format_value():
    assert format_value(0.123456, 0.0021) == "0.1235 ± 0.0021"
    assert format_value(12345.6, 25) == "12346 ± 25"
    assert format_value(3.14159265) == "3.142"


def test_failed_claim_is_still_recorded_in_the_ledger():
    ledger = []
    with pytest.raises(sgdsim.ClaimFailed):
        sgdsim.check("x", 2.0, 1.0, atol=0.5, ledger=ledger)
    assert len(ledger) == 1 and not ledger[0].passed
    assert ledger[0].to_dict()["rel_error"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- parse_claim_line
_CLAIMS = [
    evaluate("slope", 0.25031234, 0.25, stderr=0.0012345),
    evaluate("alpha = 1/2 (not 1/10)", 0.1, 0.5, stderr=0.01),
    evaluate("tiny", 3e-13, 0.0, atol=1e-10),
    evaluate("huge", 123456.7, 120000.0, rtol=0.05),
    evaluate("both tolerances", 1.005, 1.0, stderr=0.01, rtol=0.01),
    evaluate("atol and rtol", 1.5, 1.0, rtol=0.1, atol=0.2),
    evaluate("mean at zero", 0.003, 0.0, stderr=0.002),
    evaluate("negative", -2.5, -2.4, rtol=0.1),
    evaluate("names may contain: colons | bars, and ': measured 1'", 1.0, 1.0, atol=0.1),
    evaluate("small value", 2.5e-5, 2.4e-5, stderr=1e-6, z=3),
]


@pytest.mark.parametrize("claim", _CLAIMS, ids=lambda c: c.claim[:20])
def test_parse_claim_line_round_trips_claim_str(claim):
    line = str(claim)
    parsed = sgdsim.checks.parse_claim_line(line)
    assert parsed is not None
    assert str(parsed) == line
    assert parsed.claim == claim.claim
    assert parsed.passed == claim.passed
    assert parsed.measured == format_value(claim.measured, claim.stderr)
    assert parsed.tolerance == claim.tolerance_text()
    assert sgdsim.checks.parse_claim_line(line + "\n") == parsed


def test_parse_claim_line_reads_what_check_prints(capsys):
    with pytest.raises(sgdsim.ClaimFailed):
        sgdsim.check("wrong constant", 0.1, 0.5, stderr=0.01)
    line = capsys.readouterr().out
    parsed = sgdsim.checks.parse_claim_line(line)
    assert parsed.mark == "✗" and not parsed.passed
    assert parsed.predicted == "0.500" and parsed.deviation == "-40.0σ, -80%"


@pytest.mark.parametrize("line", [
    "",
    "slope: measured 1 | predicted 1 | deviation 0 | pass if |dev| ≤ 4σ",  # no mark
    "✓ done",
    "✓ x: measured 1 | predicted 1",
    "<Figure size 640x480 with 1 Axes>",
])
def test_parse_claim_line_ignores_other_output(line):
    assert sgdsim.checks.parse_claim_line(line) is None


def test_refute_passes_only_when_the_prediction_is_rejected(capsys):
    from sgdsim.checks import parse_claim_line

    ledger = []
    sgdsim.refute("alpha = 1/10", 0.5, 0.1, stderr=0.01, ledger=ledger)
    line = capsys.readouterr().out.strip()
    assert line.startswith("✓ alpha = 1/10: measured 0.500 ± 0.010 | predicted 0.100")
    assert line.endswith("pass if |dev| > 4σ (the prediction is rejected)")
    assert ledger[0].passed and ledger[0].refutes
    assert str(parse_claim_line(line)) == line
    with pytest.raises(sgdsim.ClaimFailed, match="✗"):
        sgdsim.refute("compatible", 0.105, 0.1, stderr=0.01)
    with pytest.raises(sgdsim.ClaimFailed):
        sgdsim.refute("within rtol", 1.001, 1.0, rtol=0.01)
    sgdsim.refute("beyond rtol", 1.1, 1.0, rtol=0.01)

# -- one-sided claims (check_positive) -------------------------------------------

def test_check_positive_passes_and_prints(capsys):
    ledger = []
    sgdsim.check_positive("drop", sgdsim.Estimate(0.05, 0.004), ledger=ledger)
    out = capsys.readouterr().out.strip()
    assert out == ("✓ drop: measured 0.0500 ± 0.0040 | predicted > 0 | deviation +12.5σ from 0 | "
                   "pass if measured > 4σ")
    (c,) = ledger
    assert c.passed and isinstance(c, sgdsim.OneSidedClaim) and c.sigmas == pytest.approx(12.5)


def test_check_positive_fails_below_z_sigma_and_on_negative():
    ledger = []
    with pytest.raises(sgdsim.ClaimFailed, match="✗ small"):
        sgdsim.check_positive("small", 0.03, stderr=0.01, ledger=ledger)  # 3 sigma < 4
    with pytest.raises(sgdsim.ClaimFailed):
        sgdsim.check_positive("negative", -1.0, stderr=0.01)
    assert not ledger[0].passed
    sgdsim.check_positive("z=2", 0.03, stderr=0.01, z=2)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((1.0,), dict(), "standard error"),
        ((1.0,), dict(stderr=0.0), "finite and > 0"),
        ((np.nan,), dict(stderr=1.0), "finite"),
        ((1.0,), dict(stderr=1.0, z=-1), "z must be"),
    ],
)
def test_check_positive_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        sgdsim.check_positive("c", *args, **kwargs)


def test_one_sided_claim_lines_parse_for_the_ledger(capsys):
    from sgdsim.checks import check_positive, parse_claim_line

    check_positive("drop", 0.05, stderr=0.004)
    line = capsys.readouterr().out.strip()
    assert str(parse_claim_line(line)) == line
