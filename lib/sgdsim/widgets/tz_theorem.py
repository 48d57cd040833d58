r"""Chapter 3 (the TZ theorem): the stationary SGD cloud and the excess-loss line.

One explorer, :func:`tz_explorer`, with sliders for the rate :math:`\eta` and the batch
size :math:`B`. Its drawing function :func:`draw_tz` also makes the chapter's static
figure of the default state, two panels stacked so that the figure stays 6.4 in wide (readable
on a phone). Top: the stationary cloud of SGD chains on a 2-D quadratic, over the loss
contours. Bottom: the measured excess loss :math:`\mathcal L(\eta)-\mathcal L^*`
(mean over the cloud's chains and time, with its standard error) on the TZ line
:math:`\eta\,E_i\|g_i\|^2/(4B)` and the exact finite-rate law.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..book.tz_theorem import cloud_problem, simulate_cloud
from ..plotting import PALETTE
from ..laws import stationary_excess_loss

from . import player, static_build, static_view

__all__ = ["cloud_problem", "simulate_cloud", "draw_tz", "tz_explorer", "DEFAULTS"]

#: The explorer's default state (also the chapter's static figure).
DEFAULTS = {"lr": 0.2, "batch_size": 1}
#: Slider range of the rate: up to 90 % of the stability limit 2/lambda_max.
LR_RANGE = (0.05, 1.0)
BATCH_SIZES = (1, 2, 4, 8, 16)


#: Half-widths of the cloud panel's window around the minimizer: wider than tall, like the
#: cloud itself (it stretches along a shallow diagonal), so the stacked panel stays short.
CLOUD_HALF_WIDTHS = (2.4, 1.4)


@lru_cache(maxsize=1)
def _contour_grid(half_widths=CLOUD_HALF_WIDTHS, n=120):
    p = cloud_problem()
    c = p.minimizer()
    hx, hy = half_widths
    xs = np.linspace(c[0] - hx, c[0] + hx, int(round(n * hx / hy)))
    ys = np.linspace(c[1] - hy, c[1] + hy, n)
    xx, yy = np.meshgrid(xs, ys)
    zz = p.loss(np.stack([xx, yy], axis=-1)) - p.minimum_loss()
    return xx, yy, zz


@lru_cache(maxsize=None)
def _theory(batch_size):
    """Rates, TZ line and exact law (cached per batch size)."""
    p = cloud_problem()
    sigma = p.noise_cov()
    lrs = np.linspace(0.005, LR_RANGE[1], 100)
    line = lrs * np.trace(sigma) / (4.0 * batch_size)
    exact = stationary_excess_loss(p.H, sigma, lrs, batch_size)
    return lrs, line, exact


def draw_tz(lr=DEFAULTS["lr"], batch_size=DEFAULTS["batch_size"], *, rng=0, axes=None):
    r"""Draw the cloud (top) and the point :math:`(\eta, \mathcal L(\eta)-\mathcal L^*)` (bottom).

    The two panels are stacked in a figure 6.4 in wide. Returns the figure.
    """
    import matplotlib.pyplot as plt

    p = cloud_problem()
    if axes is None:
        # A fixed layout: constrained layout would cost most of the redraw time. The top
        # row's height matches the cloud panel's equal-aspect box (4.8 : 2.8 data units), so
        # both panels get the full width (5.38 in): 3.14 in and 2.7 in tall.
        fig, axes = plt.subplots(2, 1, figsize=(6.4, 7.7), layout="none",
                                 gridspec_kw=dict(height_ratios=[3.14, 2.7]))
        fig.subplots_adjust(left=0.13, right=0.97, bottom=0.0714, top=0.9545, hspace=0.326)
    ax0, ax1 = axes
    fig = ax0.figure
    cloud, est = simulate_cloud(lr, batch_size, rng=rng)

    xx, yy, zz = _contour_grid()
    ax0.contour(xx, yy, zz, levels=[0.02, 0.05, 0.1, 0.2, 0.4, 0.8], colors="0.55",
                linewidths=0.8)
    ax0.scatter(cloud[:, 0], cloud[:, 1], s=6, color=PALETTE["blue"], alpha=0.55,
                label=f"SGD chains (η = {lr:.2f}, B = {batch_size})")
    c = p.minimizer()
    ax0.plot(*c, marker="x", color="black", ms=9, mew=2, ls="none", label="Φ*")
    ax0.set_xlim(xx[0, 0], xx[0, -1])
    ax0.set_ylim(yy[0, 0], yy[-1, 0])
    ax0.set_aspect("equal")
    ax0.set_xlabel("parameter Φ₁")
    ax0.set_ylabel("parameter Φ₂")
    ax0.set_title("stationary cloud over the loss contours")
    # The cloud runs from lower left to upper right: the upper-left corner is free.
    ax0.legend(loc="upper left", fontsize=10)

    lrs, line, exact = _theory(batch_size)
    _, line1, _ = _theory(1)
    if batch_size != 1:
        ax1.plot(lrs, line1, color="0.6", ls=":", lw=1.5, label="TZ line for B = 1")
    ax1.plot(lrs, line, color=PALETTE["orange"], ls="--",
             label=f"TZ line η·E‖gᵢ‖²/(4B), B = {batch_size}")
    ax1.plot(lrs, exact, color=PALETTE["green"], ls="-", label="exact finite-η law")
    ax1.errorbar([lr], [est.value], yerr=[2 * est.stderr], fmt="o", color=PALETTE["vermillion"],
                 ms=7, capsize=3, label="measured (±2 s.e.)")
    ax1.set_xlim(0, LR_RANGE[1])
    # Show the bend without letting the divergence at 2/lambda_max squash the line.
    ax1.set_ylim(0, 1.6 * float(line1[-1]))
    ax1.set_xlabel("learning rate η")
    ax1.set_ylabel("excess loss L(η) − L(Φ*)")
    ax1.set_title("converged excess loss")
    ax1.legend(loc="upper left", fontsize=10)
    return fig


def tz_explorer(*, rng=0):
    """The interactive explorer: sliders for η and B redraw :func:`draw_tz`."""
    if static_build():  # a build executes this cell: a precomputed player, no widget
        return static_view(lambda: player(
            draw_tz, dict(DEFAULTS, rng=rng), PLAYER_CONTROLS, uid="tz-explorer",
            labels={"lr": "learning rate η", "batch_size": "batch size B"},
            title="SGD's stationary cloud (top) and its excess loss against the TZ line "
                  "(bottom)"))
    import ipywidgets as w

    from . import explorer, show_figures

    def draw(lr, batch_size):
        show_figures(draw_tz(lr, batch_size, rng=rng))

    return explorer(
        draw,
        lr=w.FloatSlider(value=DEFAULTS["lr"], min=LR_RANGE[0], max=LR_RANGE[1], step=0.05,
                         description="learning rate η", readout_format=".2f"),
        batch_size=w.SelectionSlider(options=list(BATCH_SIZES), value=DEFAULTS["batch_size"],
                                     description="batch size B"),
    )


#: The player's positions (one control at a time; the defaults are among them).
PLAYER_CONTROLS = {"lr": [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
                   "batch_size": list(BATCH_SIZES)}

#: The explorer, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {
    "cloud": (
        draw_tz,
        dict(DEFAULTS, rng=0),
        [{"lr": float(lr), "batch_size": b}
         for lr, b in zip(np.linspace(*LR_RANGE, 20), list(BATCH_SIZES) * 4)],
    ),
}
