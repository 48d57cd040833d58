"""Claims as data: verdicts, resolving power, rounding that does not depend on the CPU."""

import math

import numpy as np
import pytest

import sgdsim
from sgdsim.claims import METADATA_KEY, TEXT_WIDTH, Claims, ClaimFailed, Record, format_value


def test_statistical_claim_passes_within_z_standard_errors():
    c = Claims("ch")
    c.check("slope", sgdsim.Estimate(0.2504, 0.0012), 0.25)
    rec = c.records[-1]
    assert rec.kind == "claim" and rec.passed is True
    assert rec.sigmas == pytest.approx(1 / 3)
    # resolving power: 4 s.e. relative to the prediction
    assert rec.resolution == pytest.approx(4 * 0.0012 / 0.25) and rec.relative
    assert rec.cells() == ("slope", "0.2504 ± 0.0012", "0.2500", "+0.3σ", "±1.9 %", "✓")


def test_a_failed_claim_raises_at_once_and_is_recorded():
    c = Claims("ch")
    with pytest.raises(ClaimFailed, match="alpha"):
        c.check("alpha", 0.1, 0.5, stderr=0.01)
    assert c.records[-1].passed is False
    # the boundary: |m - p| = z se passes, just beyond fails
    c.check("edge", 1.0 + 4 * 0.5, 1.0, stderr=0.5)
    with pytest.raises(ClaimFailed):
        c.check("beyond", 1.0 + 4 * 0.5 * (1 + 1e-9), 1.0, stderr=0.5)


def test_numerical_claim_shows_the_tolerance_not_round_off_digits():
    c = Claims("ch")
    c.check("flow = expm", 1.0 + 3e-13, 1.0, rtol=1e-10)
    rec = c.records[-1]
    name, meas, pred, dev, res, mark = rec.cells()
    assert meas == "within tol." and pred == "1" and dev == "≤ 1e-10 rel." and mark == "✓"
    assert "3" not in meas + dev  # the round-off value 3e-13 is never shown
    assert rec.resolution == pytest.approx(1e-10)
    with pytest.raises(ClaimFailed):
        c.check("too far", 1.0 + 2e-10, 1.0, rtol=1e-10)
    c.check("zero", 1e-14, 0.0, atol=1e-12)
    rec0 = c.records[-1]
    assert rec0.deviation_text() == "≤ 1e-12" and not rec0.relative


def test_a_coarse_numerical_tolerance_shows_the_value_to_its_digits():
    c = Claims("ch")
    c.check("slope", 1.00934, 1.0, atol=0.1)
    assert c.records[-1].cells()[1:4] == ("1.01", "1.00", "≤ 0.1")
    rng = np.random.default_rng(1)
    for _ in range(2000):  # and never a round-off digit
        m, tol = rng.normal(), 10 ** rng.uniform(-5, 0)
        a, b = Claims("a", z=1e9), Claims("b", z=1e9)
        a.check("x", m, m + 0.1 * tol, atol=tol)
        b.check("x", m * (1 + 1e-13), m + 0.1 * tol, atol=tol)
        assert a.records[-1].cells() == b.records[-1].cells()


def test_both_tolerances_must_hold_and_the_tighter_sets_the_resolution():
    c = Claims("ch")
    c.check("both", 1.005, 1.0, stderr=0.01, rtol=0.01)
    rec = c.records[-1]
    assert rec.resolution == pytest.approx(0.01)
    with pytest.raises(ClaimFailed):
        c.check("rtol violated", 1.02, 1.0, stderr=0.01, rtol=0.01)


def test_refutation_passes_only_when_the_data_reject_the_wrong_value():
    c = Claims("ch")
    c.refute("slides' alpha = 1/10", sgdsim.Estimate(0.5025, 0.0054), 0.1)
    rec = c.records[-1]
    assert rec.kind == "refutation" and rec.passed is True and rec.sigmas > 70
    assert rec.text().endswith("rejected")
    with pytest.raises(ClaimFailed, match="refutation failed"):
        c.refute("not rejected", sgdsim.Estimate(0.5, 0.1), 0.6)


def test_demonstration_and_observation_assert_nothing():
    c = Claims("ch")
    c.demonstrate("drop lowers the loss", sgdsim.Estimate(0.3, 0.01))
    rec = c.records[-1]
    assert rec.kind == "demonstration" and rec.passed is None and rec.verdict == "·"
    c.observe("rmsprop vs sgd", sgdsim.Estimate(1.0, 0.1), sgdsim.Estimate(2.0, 0.1))
    obs = c.records[-1]
    assert obs.predicted_text == "lower" and obs.passed is None
    c.observe("close", sgdsim.Estimate(1.0, 0.1), sgdsim.Estimate(1.1, 0.1))
    obs2 = c.records[-1]
    assert obs2.predicted_text.startswith("not resolved")


def test_positive_claim():
    c = Claims("ch")
    c.positive("gap > 0", sgdsim.Estimate(0.5, 0.1))
    assert c.records[-1].passed
    with pytest.raises(ClaimFailed):
        c.positive("gap > 0 (weak)", sgdsim.Estimate(0.3, 0.1))
    c.positive("shown", sgdsim.Estimate(0.3, 0.1), kind="demonstration")
    assert c.records[-1].passed is None


@pytest.mark.parametrize("kwargs, err", [
    (dict(measured=float("nan"), predicted=1.0, stderr=0.1), "diverged"),
    (dict(measured=1.0, predicted=float("inf"), stderr=0.1), "prediction"),
    (dict(measured=1.0, predicted=1.0), "needs a tolerance"),
    (dict(measured=1.0, predicted=1.0, stderr=0.0), "stderr must be"),
    (dict(measured=1.0, predicted=1.0, rtol=-1.0), "rtol must be"),
    (dict(measured="x", predicted=1.0, stderr=0.1), "measured must be"),
])
def test_bad_input_gets_a_clear_error(kwargs, err):
    with pytest.raises((ValueError, TypeError), match=err):
        Claims("ch").check("bad", **kwargs)


def test_bad_chapter_section_or_z():
    with pytest.raises(ValueError, match="chapter"):
        Claims("")
    with pytest.raises(ValueError, match="z must be"):
        Claims("ch", z=0)
    with pytest.raises(ValueError, match="title"):
        Claims("ch").section(" ")


@pytest.mark.parametrize("value, se, text", [
    (0.890912, 0.00171, "0.8909 ± 0.0017"),
    (12.34, 0.5, "12.34 ± 0.50"),
    (2.5e-05, 1.3e-06, "2.50e-5 ± 1.3e-6"),
    (-2.4931e-05, 1.3e-04, "-0.00002 ± 0.00013"),
    (0.894127, None, "0.894"),
    (3e-7, None, "3.00e-7"),
])
def test_format_value_rounds_to_the_standard_error(value, se, text):
    assert format_value(value, se) == text


def test_display_is_stable_under_round_off():
    # perturbing the measurement and its error at the level of round-off (1e-13 relative)
    # changes no displayed character: the display never shows round-off digits
    rng = np.random.default_rng(0)
    for _ in range(2000):
        m, se, p = rng.normal(), 10 ** rng.uniform(-6, 0), rng.normal()
        ca, cb = Claims("c", z=1e9), Claims("c", z=1e9)
        ca.check("x", m, p, stderr=se)
        cb.check("x", m * (1 + 1e-13), p, stderr=se * (1 - 1e-13))
        a, b = ca.records[-1].cells(), cb.records[-1].cells()
        assert a == b


def test_panel_shows_new_records_in_html_and_short_text_with_data_in_metadata():
    c = Claims("langevin")
    c.section("The stationary law")
    c.check("variance = ησ²/(2h) " + "with a rather long name " * 4,
            sgdsim.Estimate(0.0501, 0.0004), 0.05)
    c.refute("slides' ησ²/(10h)", sgdsim.Estimate(0.0501, 0.0004), 0.01)
    panel = c.panel()
    data, meta = panel._repr_mimebundle_()
    text = data["text/plain"].splitlines()
    assert text[0] == "Claims — The stationary law: 1 claim, 1 refutation: 2 ✓"
    assert all(len(line) <= TEXT_WIDTH for line in text)
    assert "<table" in data["text/html"] and "(refuted)" in data["text/html"]
    payload = meta[METADATA_KEY]
    assert payload["chapter"] == "langevin" and payload["recorded"] == 2
    assert [r["n"] for r in payload["records"]] == [1, 2]
    assert Record.from_dict(payload["records"][0]) == c.records[0]
    # the next panel shows only what came after
    c.section("Next")
    c.check("x", 1.0, 1.0, atol=0.1)
    assert [r.n for r in c.panel().records] == [3]
    with pytest.raises(ValueError, match="no claim"):
        c.panel()


def test_a_check_returns_nothing_so_a_cell_ending_in_one_displays_nothing():
    c = Claims("ch")
    assert c.check("x", 1.0, 1.0, atol=0.1) is None
    assert c.records[-1].name == "x"


def test_summary_counts_by_section_and_kind():
    c = Claims("ch")
    c.section("A")
    c.check("a1", 1.0, 1.0, atol=0.1)
    c.demonstrate("a2", 2.0)
    c.section("B")
    c.refute("b1", 1.0, 2.0, atol=0.1)
    s = c.summary()
    assert s.rows() == [("A", 1, 0, 1, 1), ("B", 0, 1, 0, 1)]
    data, meta = s._repr_mimebundle_()
    assert data["text/plain"].splitlines()[0] == (
        "1 claim, 1 refutation, 1 demonstration; 2 of 2 tested hold")
    assert len(meta[METADATA_KEY]["records"]) == 3
    with pytest.raises(ValueError, match="no claim"):
        Claims("empty").summary()


def test_html_escapes_names():
    c = Claims("ch")
    c.check("<b>x</b> & y", 1.0, 1.0, atol=0.1)
    html = c.panel()._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in html and "<b>x" not in html


def test_sigmas_are_shown_compactly():
    c = Claims("ch", z=1e6)
    c.check("a", 1.0 + 74.3e-3, 1.0, stderr=1e-3)
    assert c.records[-1].deviation_text() == "+74σ"
    c.check("b", 1.0 - 5e3 * 1e-3, 1.0, stderr=1e-3)
    assert c.records[-1].deviation_text() == "−>999σ"
    assert math.isclose(c.records[0].sigmas, 74.3)
