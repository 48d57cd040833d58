"""Tests of the RMSProp chapter's explorer (sgdsim.widgets.rmsprop)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import sgdsim  # noqa: E402
from sgdsim.widgets import rmsprop as W  # noqa: E402


def test_stationary_cloud_predictions_are_the_exact_laws():
    res = W.stationary_cloud(0.5, 2.0, 0.02, "SGD", rng=0, chains=50, steps=100)
    h = np.array(W.HESSIAN)
    exact = np.diag(sgdsim.sgd_stationary_cov(np.diag(h), np.diag([0.25, 4.0]), 0.02)) * h
    np.testing.assert_allclose(res.predicted, exact)
    assert res.points.shape == (50, 2) and res.steps == 100
    res = W.stationary_cloud(0.5, 2.0, 0.02, "η/σ²", rng=0, chains=50, steps=100)
    np.testing.assert_allclose(res.predicted, 0.02 / (2 - 0.02 * h / [0.25, 4.0]))
    res = W.stationary_cloud(0.5, 2.0, 0.02, "RMSProp", rng=0, chains=50, steps=100)
    np.testing.assert_allclose(res.predicted,
                               W.RMSPROP_FACTOR_09 * 0.02 * np.array([0.5, 2.0]) / 2)


def test_stationary_cloud_measures_the_inverse_variance_temperature():
    # A statistical check: T_x, T_y within 4 standard errors of the exact finite-rate law.
    res = W.stationary_cloud(0.5, 2.0, 0.02, "η/σ²", rng=1, chains=400, steps=1500)
    for t, p in zip(res.temperatures, res.predicted):
        assert abs(t.value - p) < 4 * t.stderr


def test_automatic_run_length():
    # slowest coordinate: eps = lr * h_x / sigma_x^2 = 0.01 / 4 -> 6 / eps = 2400 steps
    res = W.stationary_cloud(2.0, 0.5, 0.01, "η/σ²", rng=0, chains=4)
    assert res.steps == 2400
    res = W.stationary_cloud(2.0, 2.0, 0.01, "η/σ²", rng=0, chains=4, max_steps=1000)
    assert res.steps == 1000


@pytest.mark.parametrize("kwargs, match", [
    (dict(sigma_x=0.0, sigma_y=1.0, lr=0.1, rule="SGD"), "sigma"),
    (dict(sigma_x=1.0, sigma_y=1.0, lr=-0.1, rule="SGD"), "lr"),
    (dict(sigma_x=1.0, sigma_y=1.0, lr=0.1, rule="Adam"), "rule"),
])
def test_stationary_cloud_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        W.stationary_cloud(rng=0, **kwargs)


def test_draw_cloud_and_ellipse():
    res = W.stationary_cloud(1.0, 1.0, 0.02, "RMSProp", rng=0, chains=30, steps=50)
    fig, ax = plt.subplots()
    W.draw_cloud(ax, res, mathtext=False)
    texts = [t.get_text() for t in ax.texts]
    assert any("T(x)" in t for t in texts)
    assert ax.get_aspect() == 1.0
    xy = sgdsim.plotting.ellipse([[4.0, 0.0], [0.0, 1.0]], k=1.0)
    assert np.abs(xy[:, 0]).max() == pytest.approx(2.0, rel=1e-3)
    assert np.abs(xy[:, 1]).max() == pytest.approx(1.0, rel=1e-3)
    plt.close(fig)


def test_draw_cloud_without_stats_box():
    res = W.stationary_cloud(1.0, 1.0, 0.02, "SGD", rng=0, chains=30, steps=50)
    fig, ax = plt.subplots()
    W.draw_cloud(ax, res, mathtext=False, stats=False, legend=False, title=False)
    assert len(ax.texts) == 0 and ax.get_legend() is None and ax.get_title() == ""
    assert len(ax.collections) == 1 and len(ax.lines) == 3   # cloud; 2 Gibbs + 1 predicted
    plt.close(fig)


def test_cloud_figure_rounds_its_window_up_to_a_power_of_sqrt2():
    from matplotlib.figure import Figure

    live = W.CloudFigure(Figure(figsize=W.CloudFigure.figsize, layout="none"))
    live.update(sigma_x=1.0, sigma_y=0.5, lr=0.02, rule="SGD", rng=0)
    assert np.log2(live.key) * 2 == pytest.approx(round(np.log2(live.key) * 2))
    assert live.ax.get_xlim() == (-live.key, live.key)
    assert live.png(dpi=50)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.get_fignums()


def test_explorer_builds():
    pytest.importorskip("ipywidgets")
    w = W.rmsprop_explorer(rng=0)
    names = {c.description for c in w.children[:-1]}
    assert {"σx", "σy", "η′", "rule"} <= names
    plt.close("all")
