"""Tests of the Langevin chapter's figures and explorer (sgdsim.widgets.langevin)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import sgdsim  # noqa: E402
from sgdsim.widgets import langevin as lw  # noqa: E402


def test_separable_factors():
    px, py, prob = lw.separable_factors(3.0, 2.0)
    np.testing.assert_allclose(prob.noise_cov(), np.diag([9.0, 4.0]))
    pts = np.array([[0.3, -0.7], [1.1, 0.2]])
    np.testing.assert_allclose(prob.loss(pts), px.loss(pts[:, :1]) + pts[:, 1] ** 2)


def test_draw_stationary_default_and_divergence():
    fig = lw.draw_stationary(**lw.STATIONARY_DEFAULTS)
    axes = fig.axes
    assert len(axes) == 2
    for ax in axes:
        assert len(ax.lines) == 3  # own-T Gibbs, exact SGD law, other-T Gibbs
        # the Gibbs curve at the panel's own temperature integrates to 1
        x, y = ax.lines[0].get_data()
        assert np.trapezoid(y, x) == pytest.approx(1.0, abs=0.02)
    plt.close(fig)
    fig = lw.draw_stationary(0.05, 20.0, 20.0)  # T = 10: SGD blows up on the quartic walls
    assert any("diverged" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)


def test_draw_stationary_is_reproducible():
    a = lw.draw_stationary(0.01, 8.0, 4.0, rng=3)
    b = lw.draw_stationary(0.01, 8.0, 4.0, rng=3)
    ha = [p.get_path().vertices.copy() for p in a.axes[0].patches]
    hb = [p.get_path().vertices.copy() for p in b.axes[0].patches]
    for u, v in zip(ha, hb):
        np.testing.assert_array_equal(u, v)
    plt.close("all")


def test_stationary_explorer_builds():
    pytest.importorskip("ipywidgets")
    w = lw.stationary_explorer()
    names = {c.description for c in w.children if hasattr(c, "description")}
    assert any("η" in n for n in names) and any("σ_x" in n for n in names)
    plt.close("all")
