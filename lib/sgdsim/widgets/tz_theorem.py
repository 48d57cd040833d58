r"""Chapter 3 (the TZ theorem): the stationary SGD cloud and the excess-loss line.

:class:`TzFigure` stacks, 6.4 in wide, the stationary cloud of SGD chains on a 2-D quadratic
over its loss contours, and the measured excess loss :math:`\mathcal L(\eta)-\mathcal L^*`
(±2 standard errors) on the TZ line :math:`\eta\,E_i\|g_i\|^2/(4B)` and the exact law.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..book.tz_theorem import cloud_problem, simulate_cloud
from ..laws import stationary_excess_loss
from ..plotting import PALETTE
from . import LiveFigure, explorer, live

__all__ = ["cloud_problem", "simulate_cloud", "TzFigure", "draw_tz", "tz_explorer", "DEFAULTS"]

#: The explorer's default state (also the chapter's static figure).
DEFAULTS = {"lr": 0.2, "batch_size": 1}
#: Slider range of the rate: up to 90 % of the stability limit 2/lambda_max.
LR_RANGE = (0.05, 1.0)
BATCH_SIZES = [1, 2, 4, 8, 16]

_TZ_B1 = dict(color="0.6", ls=":", lw=1.5)
_TZ = dict(color=PALETTE["orange"], ls="--")
_EXACT = dict(color=PALETTE["green"], ls="-")
_MEASURED = dict(color=PALETTE["vermillion"], ms=7)


@lru_cache(maxsize=None)
def _theory(batch_size):
    """Rates, TZ line and exact law (cached per batch size)."""
    p = cloud_problem()
    lrs = np.linspace(0.005, LR_RANGE[1], 100)
    line = lrs * np.trace(p.noise_cov()) / (4.0 * batch_size)
    return lrs, line, stationary_excess_loss(p.H, p.noise_cov(), lrs, batch_size)


class TzFigure(LiveFigure):
    r"""The cloud (top) and the point :math:`(\eta, \mathcal L(\eta)-\mathcal L^*)` (bottom)."""

    figsize = (6.4, 7.7)

    def setup(self):
        from matplotlib.lines import Line2D

        # The top row's height matches the cloud panel's equal-aspect box (4.8 : 2.8 data
        # units), so both panels get the full width: 3.14 in and 2.7 in tall.
        ax0, ax1 = self.fig.subplots(2, 1, gridspec_kw=dict(height_ratios=[3.14, 2.7]))
        self.fig.subplots_adjust(left=0.13, right=0.97, bottom=0.0714, top=0.9545, hspace=0.326)
        p = cloud_problem()
        c = p.minimizer()
        # The window is wider than tall, like the cloud (it stretches along a shallow diagonal).
        xx, yy = np.meshgrid(np.linspace(c[0] - 2.4, c[0] + 2.4, 206),
                             np.linspace(c[1] - 1.4, c[1] + 1.4, 120))
        zz = p.loss(np.stack([xx, yy], axis=-1)) - p.minimum_loss()
        ax0.contour(xx, yy, zz, levels=[0.02, 0.05, 0.1, 0.2, 0.4, 0.8], colors="0.55",
                    linewidths=0.8)
        ax0.plot(*c, marker="x", color="black", ms=9, mew=2, ls="none", label="Φ*")
        ax0.set(xlim=(xx[0, 0], xx[0, -1]), ylim=(yy[0, 0], yy[-1, 0]), aspect="equal",
                xlabel="parameter Φ₁", ylabel="parameter Φ₂")
        cloud = Line2D([], [], marker="o", ls="none", color=PALETTE["blue"], alpha=0.55)
        # The cloud runs from lower left to upper right: the upper-left corner is free.
        ax0.legend([cloud, ax0.lines[0]], ["SGD chains", "Φ*"], loc="upper left", fontsize=10)
        ax1.set(xlim=(0, LR_RANGE[1]), xlabel="learning rate η",
                ylabel="excess loss L(η) − L(Φ*)", title="converged excess loss")
        # Show the bend without letting the divergence at 2/lambda_max squash the line.
        ax1.set_ylim(0, 1.6 * float(_theory(1)[1][-1]))
        ax1.legend([Line2D([], [], **_TZ_B1), Line2D([], [], **_TZ), Line2D([], [], **_EXACT),
                    Line2D([], [], marker="o", **_MEASURED)],
                   ["TZ line for B = 1", "TZ line η·E‖gᵢ‖²/(4B)", "exact finite-η law",
                    "measured (±2 s.e.)"], loc="upper left", fontsize=10)
        self.axes, self.redrawn = (ax0, ax1), [ax0.title]

    def draw(self, lr=DEFAULTS["lr"], batch_size=DEFAULTS["batch_size"], rng=0):
        ax0, ax1 = self.axes
        cloud, est = simulate_cloud(lr, batch_size, rng=rng)
        ax0.set_title(f"stationary cloud: η = {lr:.2f}, B = {batch_size}")
        lrs, line, exact = _theory(batch_size)
        lo, hi = est.value - 2 * est.stderr, est.value + 2 * est.stderr
        return [ax0.scatter(*cloud.T, s=6, color=PALETTE["blue"], alpha=0.55),
                *ax1.plot(lrs, _theory(1)[1], **_TZ_B1), *ax1.plot(lrs, line, **_TZ),
                *ax1.plot(lrs, exact, **_EXACT),
                *ax1.plot([lr, lr], [lo, hi], marker="_", **_MEASURED),
                *ax1.plot(lr, est.value, marker="o", **_MEASURED)]


def draw_tz(lr=DEFAULTS["lr"], batch_size=DEFAULTS["batch_size"], *, rng=0):
    """The static figure of :class:`TzFigure`; returns the figure."""
    return TzFigure().update(lr=lr, batch_size=batch_size, rng=rng).fig


def tz_explorer(*, rng=0):
    """Sliders for η and B of :class:`TzFigure`."""
    return explorer(
        lambda dpi: live(TzFigure, dpi), dict(DEFAULTS, rng=rng),
        {"lr": ("learning rate η", "FloatSlider", dict(min=LR_RANGE[0], max=LR_RANGE[1],
                step=0.05, readout_format=".2f"), [0.05, *np.arange(1, 11) / 10]),
         "batch_size": ("batch size B", "SelectionSlider", {"options": BATCH_SIZES}, None)},
        title="SGD's stationary cloud (top) and its excess loss against the TZ line (bottom)",
        uid="tz-explorer")


#: The explorer, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {
    "cloud": (
        live(TzFigure),
        dict(DEFAULTS, rng=0),
        [{"lr": float(lr), "batch_size": b}
         for lr, b in zip(np.linspace(*LR_RANGE, 20), list(BATCH_SIZES) * 4)],
    ),
}
