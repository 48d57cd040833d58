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


def test_deterministic_ids():
    html = '<img id="_anim_img0123456789abcdef0123456789abcdef"> anim0123456789abcdef0123456789abcdef'
    out = lw.deterministic_ids(html, "a")
    assert "0123456789abcdef0123456789abcdef" not in out
    assert out == lw.deterministic_ids(html.replace("0123", "fedc"), "a")
    assert out != lw.deterministic_ids(html, "b")


def test_fokker_planck_animation_html_and_limits():
    well = sgdsim.double_well(tilt=0.3, noise_var=100.0)
    fp = sgdsim.fokker_planck.FokkerPlanck1D.for_sgd(well, 0.01, np.linspace(-2.0, 2.0, 41))
    times = np.array([0.0, 0.5, 1.0])
    dens = fp.evolve(fp.point_mass(1.0), times)
    samples = np.random.default_rng(0).normal(1.0, 0.2, size=(3, 200))
    html = lw.fokker_planck_animation(fp, times, dens, samples, cells_per_bin=4, name="t", dpi=30)
    assert html.count("data:image/png;base64") == 3
    assert html == lw.fokker_planck_animation(fp, times, dens, samples, cells_per_bin=4,
                                              name="t", dpi=30)
    with pytest.raises(ValueError, match="60 frames"):
        lw.fokker_planck_animation(fp, np.zeros(61), np.zeros((61, 40)), np.zeros((61, 5)),
                                   cells_per_bin=4)
    with pytest.raises(ValueError, match="one row per frame"):
        lw.fokker_planck_animation(fp, times, dens[:2], samples, cells_per_bin=4)
