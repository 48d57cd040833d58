"""Chapter 1 widget module: scenes, the shared drawing, the explorer."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import sgdsim  # noqa: E402
from sgdsim.widgets import gradient_flow as gfw  # noqa: E402


@pytest.fixture
def scene(quad2d):
    return gfw.make_scene(quad2d, [3.0, 1.0], 4.0, (-1.0, 4.0), (-4.0, 2.0), name="q",
                          n_grid=40, n_flow=81)


def test_make_scene_precomputes_grid_flow_and_curvature(scene, quad2d):
    xx, yy, zz = scene.grid
    assert xx.shape == yy.shape == zz.shape == (40, 40)
    assert np.all(zz >= -1e-12)  # excess loss
    assert np.all(np.diff(scene.levels) > 0) and scene.levels[0] > 0
    np.testing.assert_allclose(scene.flow_phi[0], [3.0, 1.0])
    exact = sgdsim.gradient_flow(quad2d, [3.0, 1.0], scene.flow_time).phi[:, 0]
    np.testing.assert_allclose(scene.flow_phi, exact)
    assert scene.lam_max == pytest.approx(np.linalg.eigvalsh(quad2d.H)[-1])
    assert scene.lam_star == pytest.approx(scene.lam_max)  # a quadratic: the same curvature
    assert scene.loss_star == pytest.approx(quad2d.minimum_loss())


def test_make_scene_bad_input(quad2d):
    with pytest.raises(ValueError, match="2-D problem"):
        gfw.make_scene(sgdsim.double_well(), [1.0], 1.0, (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match="low < high"):
        gfw.make_scene(quad2d, [0.0, 0.0], 1.0, (1, -1), (-1, 1))
    with pytest.raises(ValueError, match="t_end must be > 0"):
        gfw.make_scene(quad2d, [0.0, 0.0], -1.0, (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match="shape"):
        gfw.make_scene(quad2d, [0.0, 0.0, 0.0], 1.0, (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match="n_grid"):
        gfw.make_scene(quad2d, [0.0, 0.0], 1.0, (-1, 1), (-1, 1), n_grid=3)


def test_gd_path_is_gradient_descent_up_to_the_horizon(scene, quad2d):
    t, phi = gfw.gd_path(scene, 0.3)
    assert t.size == 15  # ceil(4 / 0.3) = 14 steps
    np.testing.assert_allclose(t, 0.3 * np.arange(15))
    np.testing.assert_allclose(phi, sgdsim.gradient_descent(quad2d, [3.0, 1.0], 0.3, 14).phi[:, 0])
    t, _ = gfw.gd_path(scene, 0.001, max_steps=50)
    assert t.size == 51  # capped
    t, phi = gfw.gd_path(scene, 0.25)  # 4 / 0.25 = 16 exactly, not 17
    assert t.size == 17


def test_gd_path_overflowing_run_is_shortened_not_refused(quad2d):
    far = gfw.make_scene(quad2d, [3.0, 1.0], 4000.0, (-1.0, 4.0), (-4.0, 2.0), n_grid=20)
    lr = 2.5 * 2 / far.lam_max  # |1 - lr lam_max| = 4: 4^600 would overflow
    t, phi = gfw.gd_path(far, lr)
    assert 1 < t.size - 1 < gfw.MAX_STEPS
    assert np.all(np.isfinite(phi)) and np.abs(phi).max() <= 1e150
    assert np.abs(phi).max() > 1e60


def test_gd_path_above_stability_limit_blows_up_without_raising(quad2d):
    long = gfw.make_scene(quad2d, [3.0, 1.0], 1000.0, (-1.0, 4.0), (-4.0, 2.0), n_grid=20)
    lr = 1.2 * 2 / long.lam_max  # |1 - lr lam_max| = 1.4: 1.4^(steps) >> max_norm=1e8
    t, phi = gfw.gd_path(long, lr)
    assert t.size - 1 == gfw.MAX_STEPS
    assert np.all(np.isfinite(phi))
    d = np.linalg.norm(phi - quad2d.minimizer(), axis=-1)
    assert d[-1] / d[-2] == pytest.approx(1.4, rel=1e-6)
    assert d[-1] > 1e80


def test_gd_path_bad_input(scene):
    for bad in (0.0, -0.1):
        with pytest.raises(ValueError, match="lr must be > 0"):
            gfw.gd_path(scene, bad)
    with pytest.raises(ValueError, match="lr must be finite"):
        gfw.gd_path(scene, np.nan)
    with pytest.raises(ValueError, match="max_steps"):
        gfw.gd_path(scene, 0.1, max_steps=0)


def test_draw_scene_and_fast_update_draw_the_same_iterates(scene):
    fig = gfw.draw_scene(scene, 0.2)
    assert len(fig.axes) == 2
    static = fig.axes[0].lines[-1].get_xydata()
    plt.close(fig)

    sf = gfw.SceneFigure(Figure(figsize=gfw.FIGSIZE, layout="none"), scene=scene)
    first = sf.update(lr=0.05).png(dpi=40)
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    sf.update(lr=0.2)
    np.testing.assert_allclose(sf.axes[0].lines[-1].get_xydata(), static)
    assert "η = 0.2" in sf.title.get_text()
    assert sf.png(dpi=40) != first


def test_scene_figure_fits_a_phone_column_and_nothing_is_clipped(scene):
    # Stacked panels, at most 7 in (700 CSS px) wide, with every label, the title and the
    # legend inside the figure, and the legend outside both panels (it hides no data).
    sf = gfw.SceneFigure(Figure(figsize=gfw.FIGSIZE, layout="none"), scene=scene)
    sf.update(lr=2.3 / scene.lam_star)
    width, height = sf.fig.get_size_inches()
    assert width <= 7.0
    ax, ax2 = sf.axes
    assert ax.get_position().y0 > ax2.get_position().y1  # contour panel above loss panel
    sf.png(dpi=40)
    renderer = sf.fig.canvas.get_renderer()
    inside = sf.fig.get_tightbbox(renderer)
    assert inside.x0 >= 0 and inside.y0 >= 0 and inside.x1 <= width and inside.y1 <= height
    title = sf.title.get_window_extent(renderer)
    assert title.x0 >= 0 and title.x1 <= sf.fig.bbox.x1 and title.y1 <= sf.fig.bbox.y1
    (legend,) = sf.fig.legends
    box = legend.get_window_extent(renderer)
    for a in (ax, ax2):
        assert not box.overlaps(a.get_window_extent(renderer))
    assert not box.overlaps(title)
    assert ax.get_legend() is None and ax2.get_legend() is None


def test_title_says_which_side_of_the_stability_limit(scene):
    sf = gfw.SceneFigure(Figure(layout="none"), scene=scene).update(lr=2.1 / scene.lam_star)
    assert "η·λ* = 2.10 at the minimizer (unstable near Φ*" in sf.title.get_text()
    sf.update(lr=1.0 / scene.lam_star)
    assert "η·λ* = 1.00 at the minimizer (stable near Φ*" in sf.title.get_text()


def test_logistic_scene_separates_accuracy_and_stability_curvatures():
    # The chapter's valley: the flow passes regions 2-3 times more curved than the minimum.
    X, y = sgdsim.datasets.breast_cancer(intercept=False)
    prob = sgdsim.LogisticRegression(X[:, [0, 20]], y, l2=0.01)
    s = gfw.make_scene(prob, [-3.0, 1.0], 300.0, (-4, 1.5), (-3.6, 2), n_grid=20, n_flow=301)
    assert s.lam_star == pytest.approx(np.linalg.eigvalsh(prob.hessian(prob.minimizer()))[-1])
    assert s.lam_star == pytest.approx(2 / prob.max_stable_lr())
    on_path = np.linalg.eigvalsh(prob.hessian(s.flow_phi))[:, -1]
    assert s.lam_max == pytest.approx(on_path.max())
    assert s.lam_max > 2 * s.lam_star


def test_explorer_builds_and_redraws(scene, quad2d, monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    other = gfw.make_scene(quad2d, [0.0, 0.0], 2.0, (-1.0, 4.0), (-4.0, 2.0), name="other",
                           n_grid=20)
    w = gfw.gradient_flow_explorer([scene, other], lr_times_lam=0.5)
    scene_box, slider = w.children[0], w.children[1]
    assert scene_box.value == "q" and slider.value == 0.5
    assert slider.continuous_update is False
    slider.value = 1.9
    scene_box.value = "other"
    assert len(shown) == 3  # initial draw, slider move, scene change
    assert all(img.data[:8] == b"\x89PNG\r\n\x1a\n" for img in shown)
    assert len({img.data for img in shown}) == 3
    with pytest.raises(ValueError, match="at least one"):
        gfw.gradient_flow_explorer([])
    with pytest.raises(ValueError, match="distinct"):
        gfw.gradient_flow_explorer([scene, scene])
