"""Explorers and shared drawings for the chapter "SGD convergence".

* :func:`draw_sgd_vs_flow` / :func:`sgd_explorer` -- SGD paths against the
  gradient flow, the stationary cloud they settle into, and the excess loss
  against time (the sum of the rates), for a rate and a batch size;
* :func:`draw_drops` / :func:`drops_explorer` -- training (thin) and validation
  (thick) loss of SGD whose rate is divided at two milestones, as in the ResNet
  paper's training curves.

The static figures in the chapter call the same ``draw_*`` functions with the
explorers' default values, so the website shows what the widget shows first.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullLocator

from ..book import sgd_convergence as convergence
from ..dynamics import gradient_flow, sgd
from ..laws import excess_loss, sgd_stationary_cov
from ..plotting import PALETTE, ellipse, loss_contours, unicode_log_ticks
from ..problems import Quadratic
from . import explorer, show_figures

from . import player, static_build, static_view

__all__ = [
    "draw_sgd_vs_flow",
    "sgd_explorer",
    "plot_drop_run",
    "draw_drops",
    "drops_explorer",
]

_PATH_STYLES = (
    dict(color=PALETTE["blue"], ls="-"),
    dict(color=PALETTE["vermillion"], ls="--"),
    dict(color=PALETTE["green"], ls=":"),
    dict(color=PALETTE["purple"], ls="-."),
)


def draw_sgd_vs_flow(problem, phi0, lr, batch_size=1, *, t_end=16.0, chains=200, paths=3,
                     rng, xlim=(-3.0, 4.0), ylim=(-3.5, 3.5), n_grid=80):
    r"""Simulate SGD from ``phi0`` and draw it against the gradient flow.

    Top: loss contours, the flow's path (black), ``paths`` SGD paths and the
    final positions of all ``chains`` (the stationary cloud, after
    :math:`t = ` ``t_end``); for a :class:`~sgdsim.Quadratic` also the exact
    stationary 2-sigma ellipse. Bottom: the excess loss
    :math:`\mathcal L - \mathcal L(\Phi^*)` against time :math:`t = \sum_k \eta_k`
    for the flow, the SGD paths and the mean over chains, with the exact
    converged level :math:`\mathcal L(\eta) - \mathcal L(\Phi^*)` where it is known.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if problem.dim != 2:
        raise ValueError(f"draw_sgd_vs_flow needs a 2-D problem, got dim={problem.dim}")
    lr = float(lr)
    steps = max(1, int(round(t_end / lr)))
    every = max(1, steps // 400)
    traj = sgd(problem, phi0, lr, steps, batch_size=batch_size, chains=chains, rng=rng,
               record_every=every)
    flow = gradient_flow(problem, phi0, traj.time, rtol=1e-8, atol=1e-10)
    star = problem.minimizer()
    l_star = problem.minimum_loss()

    # Fixed margins instead of the book's constrained layout: the layout solver would
    # otherwise take most of a slider update's time.
    # Stacked panels, 6.4 in wide: readable when a phone scales the figure to its width.
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(6.4, 8.6), layout="none",
                                 gridspec_kw=dict(height_ratios=(1.25, 1)))
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.085, top=0.96, hspace=0.3)
    loss_contours(ax, problem, xlim, ylim, levels=np.linspace(0, 12, 13) + l_star, n=n_grid)
    cloud = traj.final
    ax.scatter(cloud[:, 0], cloud[:, 1], s=5, color="0.45", alpha=0.6, lw=0,
               label=f"{chains} chains at t = {traj.time[-1]:.0f}")
    for j in range(min(paths, chains)):
        st = _PATH_STYLES[j % len(_PATH_STYLES)]
        ax.plot(traj.phi[:, j, 0], traj.phi[:, j, 1], lw=1.0, alpha=0.9,
                label="SGD paths" if j == 0 else None, **st)
    ax.plot(flow.phi[:, 0, 0], flow.phi[:, 0, 1], color="k", lw=2.2, label="gradient flow")
    exact_level = None
    if isinstance(problem, Quadratic) and lr < problem.max_stable_lr():
        cov = sgd_stationary_cov(problem.H, problem.noise_cov(), lr, batch_size)
        e = ellipse(cov, star)
        ax.plot(e[:, 0], e[:, 1], color=PALETTE["orange"], lw=2.0, ls="--",
                label="exact stationary 2σ ellipse")
        exact_level = excess_loss(problem.H, cov)
    ax.plot(*star, marker="*", ms=13, color=PALETTE["orange"], mec="k", ls="none",
            label=r"minimum $\Phi^*$")
    ax.set(xlim=xlim, ylim=ylim, xlabel=r"$\Phi_1$", ylabel=r"$\Phi_2$",
           title=rf"$\eta = {lr:.3g}$, $B = {batch_size}$")
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=8.5)

    excess = traj.loss(problem) - l_star
    flow_excess = flow.loss(problem)[:, 0] - l_star
    t = traj.time
    for j in range(min(paths, chains)):
        st = _PATH_STYLES[j % len(_PATH_STYLES)]
        bx.plot(t, excess[:, j], lw=0.8, alpha=0.6, **st)
    bx.plot(t, excess.mean(axis=1), color=PALETTE["skyblue"], lw=2.5,
            label="SGD, mean over chains")
    bx.plot(t[flow_excess > 0], flow_excess[flow_excess > 0], color="k", lw=2.2,
            label="gradient flow")
    if exact_level is not None:
        bx.axhline(exact_level, color=PALETTE["orange"], ls="--", lw=2,
                   label=r"exact $\mathcal{L}(\eta)-\mathcal{L}(\Phi^*)$")
    bx.set_yscale("log")
    bx.yaxis.set_minor_locator(NullLocator())  # fewer tick labels to lay out: faster redraws
    unicode_log_ticks(bx.yaxis)  # no mathtext to parse at every update
    floor = max(float(np.min(excess[excess > 0])), 1e-6) if np.any(excess > 0) else 1e-6
    bx.set_ylim(max(floor, 1e-5), None)
    bx.set(xlabel=r"time $t = \sum_k \eta_k$", ylabel=r"$\mathcal{L}(\Phi) - \mathcal{L}(\Phi^*)$",
           title="excess loss")
    bx.legend(loc="upper right", fontsize=9)
    return fig


def sgd_explorer(problem, phi0, *, rng=0, t_end=16.0, chains=200, lr=0.1, batch_size=1,
                 **draw_kwargs):
    """Sliders for the rate (log scale) and batch size of :func:`draw_sgd_vs_flow`.

    Each redraw uses a fresh generator seeded with ``rng`` (an integer seed), so a setting always
    shows the same picture.
    """
    limit = problem.max_stable_lr() if isinstance(problem, Quadratic) else 1.0
    lr_max = float(np.round(0.9 * min(limit, 10.0), 2))
    if static_build():  # a build executes this cell: a precomputed player, no widget
        rates = sorted({float(r) for r in np.round(np.geomspace(0.05, lr_max, 7), 3)} | {lr})
        return static_view(lambda: player(
            lambda lr, batch_size: draw_sgd_vs_flow(
                problem, phi0, lr, batch_size, t_end=t_end, chains=chains,
                rng=np.random.default_rng(rng), **draw_kwargs),
            {"lr": lr, "batch_size": batch_size},
            {"lr": rates, "batch_size": [1, 2, 4, 8, 16, 32]}, uid="sgd-flow-explorer", dpi=100,
            labels={"lr": "rate η", "batch_size": "batch size B"},
            title="SGD paths against the gradient flow, and the excess loss over time"))
    import ipywidgets as w

    def draw(lr, batch_size):
        show_figures(draw_sgd_vs_flow(problem, phi0, lr, batch_size, t_end=t_end,
                                      chains=chains, rng=np.random.default_rng(rng),
                                      **draw_kwargs))

    return explorer(
        draw,
        lr=w.FloatLogSlider(value=lr, base=10, min=np.log10(0.05), max=np.log10(lr_max),
                            step=0.05, description="rate η", readout_format=".3f"),
        batch_size=w.SelectionSlider(options=[1, 2, 4, 8, 16, 32], value=batch_size,
                                     description="batch size B"),
    )


def plot_drop_run(ax, run, *, color, label, show_milestones=True):
    """Draw a :class:`~sgdsim.book.sgd_convergence.DropRun`: mean training loss thin, validation thick."""
    ax.plot(run.epoch, run.train_loss.mean(axis=1), color=color, lw=1.0,
            label=f"{label}: training")
    ax.plot(run.epoch, run.val_loss.mean(axis=1), color=color, lw=3.0, alpha=0.85,
            label=f"{label}: validation")
    if show_milestones:
        for m in run.milestones:
            ax.axvline(m, color="0.5", ls=":", lw=1.2)
    ax.set(xlabel="epoch (passes over the training set)", ylabel="logistic loss")


def draw_drops(train, validation, phi0, lr=2.0, factor=10.0, first=10, second=20, *,
               epochs=30, batch_size=8, chains=4, rng, ylim=(0.1, 0.35)):
    """Train with a rate divided by ``factor`` at epochs ``first`` and ``second``; draw it.

    Top: mean training loss (thin) and validation loss (thick) over ``chains``
    runs; bottom: the rate against epochs (log scale).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    # Equal milestones mean one drop; milestones outside (0, epochs) are ignored.
    ms = sorted(m for m in {float(first), float(second)} if 0 < m < epochs)
    run = convergence.train_with_drops(train, validation, phi0, lr, factor, ms, epochs,
                                       batch_size=batch_size, chains=chains, rng=rng)
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(7.5, 5.2), sharex=True, layout="none",
                                 gridspec_kw=dict(height_ratios=(3, 1)))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.11, top=0.93, hspace=0.08)
    plot_drop_run(ax, run, color=PALETTE["blue"], label=f"÷{factor:g}")
    ax.set_ylim(*ylim)
    ax.set_xlabel("")
    ax.legend(loc="upper right")
    ax.set_title(rf"$\eta_0 = {lr:g}$, divided by {factor:g} at epochs "
                 + ", ".join(f"{m:g}" for m in run.milestones) + f"; B = {batch_size}")
    bx.step(run.epoch, run.lr, where="post", color=PALETTE["vermillion"])
    bx.set_yscale("log")
    unicode_log_ticks(bx.yaxis)  # no mathtext to parse at every update
    bx.set(xlabel="epoch (passes over the training set)", ylabel=r"rate $\eta$")
    return fig


def drops_explorer(train, validation, phi0, *, rng=0, epochs=30, **draw_kwargs):
    """Sliders for :func:`draw_drops`: initial rate, drop factor and the two milestones."""
    if static_build():  # a build executes this cell: a precomputed player, no widget
        return static_view(lambda: player(
            lambda lr, factor, first, second: draw_drops(
                train, validation, phi0, lr, factor, first, second, epochs=epochs,
                rng=np.random.default_rng(rng), **draw_kwargs),
            {"lr": 2.0, "factor": 10, "first": 10, "second": 20},
            {"lr": [0.5, 1.0, 2.0, 4.0], "factor": [1.5, 2, 3, 5, 10, 20],
             "first": [5, 10, 15], "second": [15, 20, 25]}, uid="drops-explorer",
            labels={"lr": "initial rate η₀", "factor": "divide by", "first": "1st drop (epoch)",
                    "second": "2nd drop (epoch)"},
            title="Training and validation loss with learning-rate drops"))
    import ipywidgets as w

    def draw(lr, factor, first, second):
        show_figures(draw_drops(train, validation, phi0, lr, factor, first, second,
                                epochs=epochs, rng=np.random.default_rng(rng),
                                **draw_kwargs))

    return explorer(
        draw,
        lr=w.FloatLogSlider(value=2.0, base=10, min=-1, max=np.log10(4.0), step=0.05,
                            description="initial rate η₀", readout_format=".2f"),
        factor=w.SelectionSlider(options=[1.5, 2, 3, 5, 10, 20], value=10,
                                 description="divide by"),
        first=w.IntSlider(value=10, min=1, max=epochs - 1, description="1st drop (epoch)"),
        second=w.IntSlider(value=20, min=1, max=epochs - 1, description="2nd drop (epoch)"),
    )


def _registered_explorers():
    """Draw functions doing one update of each of the chapter's explorers, on its problems."""
    from functools import lru_cache

    quadratic = lru_cache(maxsize=1)(convergence.quadratic_problem)
    drops_data = lru_cache(maxsize=1)(convergence.drops_problems)

    def flow(lr=0.1, batch_size=1, rng=0):
        return draw_sgd_vs_flow(quadratic(), np.array(convergence.QUADRATIC_START), lr, batch_size, t_end=16.0,
                                chains=150, rng=np.random.default_rng(rng))

    def drops(lr=2.0, factor=10.0, first=10, second=20, rng=0):
        train, val = drops_data()
        return draw_drops(train, val, np.zeros(train.dim), lr, factor, first, second, epochs=30,
                          batch_size=8, chains=4, rng=np.random.default_rng(rng))

    return flow, drops


_flow_draw, _drops_draw = _registered_explorers()

#: The explorers, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {
    "sgd_vs_flow": (
        _flow_draw, {"lr": 0.1, "batch_size": 1, "rng": 0},
        [{"lr": float(lr), "batch_size": b}
         for lr, b in zip(np.geomspace(0.05, 0.5, 20), [1, 2, 4, 8, 16, 32] * 4)],
    ),
    "drops": (
        _drops_draw, {"lr": 2.0, "factor": 10.0, "first": 10, "second": 20, "rng": 0},
        [{"factor": float(f), "first": int(a), "second": int(b)}
         for f, a, b in zip(np.linspace(2, 20, 20), np.repeat([5, 10], 10), np.tile([15, 20], 10))],
    ),
}
