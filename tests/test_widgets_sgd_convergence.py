"""The chapter-2 drawings and explorers build, run and refuse bad input."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import sgdsim  # noqa: E402
from sgdsim.widgets import sgd_convergence as w2  # noqa: E402


def test_draw_sgd_vs_flow_draws_paths_cloud_and_exact_level(quad2d):
    fig = w2.draw_sgd_vs_flow(quad2d, [3.0, 1.0], 0.2, 2, t_end=4.0, chains=20, rng=0,
                              xlim=(-2, 4), ylim=(-5, 2), n_grid=20)
    ax, bx = fig.axes[:2]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "gradient flow" in labels and "exact stationary 2σ ellipse" in labels
    exact = sgdsim.stationary_excess_loss(quad2d.H, quad2d.noise_cov(), 0.2, 2)
    assert any(np.allclose(line.get_ydata(), exact) for line in bx.get_lines())
    plt.close(fig)


def test_draw_sgd_vs_flow_needs_2d():
    with pytest.raises(ValueError, match="2-D"):
        w2.draw_sgd_vs_flow(sgdsim.double_well(), [0.0], 0.1, rng=0)


@pytest.fixture
def pair():
    g = np.random.default_rng(2)
    x = np.c_[g.normal(size=(60, 2)), np.ones(60)]
    y = (x[:, 0] + 0.5 * g.normal(size=60) > 0).astype(float)
    return (sgdsim.LogisticRegression(x[:40], y[:40], l2=0.01),
            sgdsim.LogisticRegression(x[40:], y[40:]))


def test_drops_figure_plots_thin_training_and_thick_validation(pair):
    train, val = pair
    fig = w2.DropsFigure(train=train, validation=val, phi0=np.zeros(3), epochs=6, batch_size=4,
                         chains=2).update(lr=0.5, factor=10, first=2, second=4, rng=0).fig
    ax = fig.axes[0]
    thin, thick = ax.get_lines()[:2]
    assert thin.get_linewidth() < thick.get_linewidth()
    assert "training" in thin.get_label() and "validation" in thick.get_label()
    plt.close(fig)
    # equal milestones: one drop
    fig = w2.DropsFigure(train=train, validation=val, epochs=6, batch_size=4,
                         chains=2).update(lr=0.5, factor=10, first=3, second=3, rng=0).fig
    assert len([x for x in fig.axes[0].get_lines() if x.get_linestyle() == ":"]) == 1
    plt.close(fig)


def test_explorers_build_and_redraw(quad2d, pair):
    pytest.importorskip("ipywidgets")
    ex = w2.sgd_explorer(quad2d, [3.0, 1.0], t_end=2.0, chains=10, n_grid=10)
    assert {c.description for c in ex.children[:2]} == {"rate η", "batch size B"}
    ex.children[1].value = 4
    plt.close("all")
    train, val = pair
    ex = w2.drops_explorer(train, val, np.zeros(3), epochs=6, batch_size=4, chains=2)
    ex.children[1].value = 2
    assert ex.children[1].value == 2
    plt.close("all")


def test_ellipse_is_k_sigma_contour():
    cov = np.array([[4.0, 1.0], [1.0, 2.0]])
    pts = w2.ellipse(cov, np.array([1.0, -1.0]), k=2.0, n=50)
    d = pts - [1.0, -1.0]
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d), 4.0)


def test_drops_figure_resumes_a_run_with_the_numbers_of_train_with_drops(pair):
    from matplotlib.figure import Figure

    from sgdsim.book.sgd_convergence import train_with_drops

    train, val = pair
    live = w2.DropsFigure(Figure(layout="none"), train=train, validation=val, phi0=np.zeros(3), epochs=6,
                          batch_size=4, chains=2)
    for lr, factor, ms in [(0.5, 10, [2, 4]), (0.5, 3, [2, 4]), (0.5, 3, [2, 5]), (1.0, 3, [1])]:
        run = live.run(lr, factor, ms, 0)
        ref = train_with_drops(train, val, np.zeros(3), lr, factor, ms, 6, batch_size=4,
                               chains=2, rng=np.random.default_rng(0))
        for name in ("epoch", "train_loss", "val_loss", "lr"):
            np.testing.assert_array_equal(getattr(run, name), getattr(ref, name))
        assert type(run) is type(ref)  # a DropRun too
        assert (run.milestones, run.epochs) == (ref.milestones, ref.epochs)
