r"""Chapter 4 (Langevin dynamics): SGD's stationary histograms against Gibbs densities.

On :math:`\mathcal L(x, y) = \mathcal L_x(x) + \mathcal L_y(y)` (a tilted double well, a
quadratic) with noise standard deviations :math:`\sigma_x, \sigma_y`, each coordinate has its
own temperature :math:`T = \eta\sigma^2/2`.
"""

from __future__ import annotations

import numpy as np

from ..book.langevin import KY, TILT, separable_factors
from ..dynamics import DivergenceError, sgd
from ..gibbs import gibbs_density, sgd_stationary_density, temperature
from ..plotting import PALETTE
from . import LiveFigure, explorer, live

__all__ = ["STATIONARY_DEFAULTS", "separable_factors", "StationaryFigure", "draw_stationary",
           "stationary_explorer"]

#: The explorer's starting point (and the chapter's static figure).
STATIONARY_DEFAULTS = {"eta": 0.01, "sigma_x": 10.0, "sigma_y": 5.0}

_HIST = dict(color=PALETTE["skyblue"], alpha=0.6)
_OWN = dict(color=PALETTE["blue"])
_EXACT = dict(color=PALETTE["black"], ls=":")
_OTHER = dict(color=PALETTE["vermillion"], ls="--")


def _gibbs_samples(problem, grid, t, size, gen):
    """Exact draws from the Gibbs density on a fine grid (inverse CDF)."""
    p = gibbs_density(problem.loss, grid, t)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * np.diff(grid))])
    return np.interp(gen.random(size), cdf / cdf[-1], grid)


def _range(problem, t, lo, hi, n=801):
    """An interval holding the Gibbs mass at temperature t (loss within 25 t of its minimum)."""
    g = np.linspace(lo, hi, n)
    loss = problem.loss(g[:, None])
    keep = g[loss - loss.min() < 25 * t]
    return keep[0], keep[-1]


class StationaryFigure(LiveFigure):
    r"""SGD's histograms of :math:`x` and :math:`y` against the Gibbs densities
    :math:`e^{-\mathcal L/T}/Z` at the coordinate's own and the other's :math:`T`, and SGD's
    exact finite-:math:`\eta` law (left out if it needs a grid of over 2500 points).

    800 chains start from the Gibbs density and run 200 SGD steps (batch 1), every 10th
    state pooled: were SGD's law different, the histograms would drift away from it.
    """

    figsize = (6.4, 7.4)

    def setup(self):
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        axes = self.fig.subplots(2, 1)
        self.fig.subplots_adjust(left=0.12, right=0.97, bottom=0.15, top=0.955, hspace=0.42)
        ky = "" if KY == 2.0 else f"{KY / 2:g}"
        axes[0].set_title(f"loss in x: (x² − 1)² + {TILT:g}x")
        axes[1].set_title(f"loss in y: {ky}y²")
        for ax, name in zip(axes, "xy"):
            ax.set(xlabel=name, ylabel=f"density p({name})", yticks=[])  # shapes, not values
            ax.xaxis.label.set_fontstyle("italic")
            ax.locator_params(axis="x", nbins=4)
        self.fig.legend([Patch(**_HIST), Line2D([], [], **_OWN), Line2D([], [], **_EXACT),
                         Line2D([], [], **_OTHER)],
                        ["SGD histogram", "Gibbs at its own T = ησ²/2",
                         "SGD's exact law at this η", "Gibbs at the other coordinate's T"],
                        loc="lower center", ncol=2, fontsize=9, frameon=False)
        # The windows move with the temperatures: the x axes are redrawn at every update.
        self.axes, self.redrawn = axes, [ax.xaxis for ax in axes]

    def draw(self, eta, sigma_x, sigma_y, rng=0):
        eta, sigma_x, sigma_y = float(eta), float(sigma_x), float(sigma_y)
        px, py, prob = separable_factors(sigma_x, sigma_y)
        tx, ty = float(temperature(eta, sigma_x**2)), float(temperature(eta, sigma_y**2))
        gen = np.random.default_rng(rng)
        xlim, ylim = _range(px, max(tx, ty), -3.0, 3.0), _range(py, max(tx, ty), -4.0, 4.0)
        x0 = _gibbs_samples(px, np.linspace(*xlim, 2001), tx, 800, gen)
        y0 = _gibbs_samples(py, np.linspace(*ylim, 2001), ty, 800, gen)
        try:
            phi = sgd(prob, np.c_[x0, y0], eta, 200, rng=gen, record_every=10).phi[1:]
        except DivergenceError:
            return [ax.text(0.5, 0.5, "SGD diverged:\nlower η or σ", ha="center", va="center",
                            transform=ax.transAxes, color=PALETTE["vermillion"])
                    for ax in self.axes]
        drawn = []
        panels = ((px, tx, ty, phi[..., 0], xlim, "x"), (py, ty, tx, phi[..., 1], ylim, "y"))
        for ax, (p1, t_own, t_other, samples, (lo, hi), name) in zip(self.axes, panels):
            grid = np.linspace(lo, hi, 400)
            dens, edges = np.histogram(samples.ravel(), bins=50, range=(lo, hi), density=True)
            drawn.append(ax.stairs(dens, edges, fill=True, **_HIST))
            curves = [(grid, gibbs_density(p1.loss, grid, t_own), _OWN)]
            step = eta * np.sqrt(float(np.atleast_2d(p1.noise_cov())[0, 0]))
            fine = np.linspace(lo, hi, max(200, int(np.ceil(2.5 * (hi - lo) / step)) + 1))
            if fine.size <= 2500:
                curves.append((fine, sgd_stationary_density(p1, eta, fine), _EXACT))
            curves.append((grid, gibbs_density(p1.loss, grid, t_other), _OTHER))
            for x, y, style in curves:
                drawn += ax.plot(x, y, **style)
            top = max(dens.max(), *(y.max() for _, y, _ in curves))
            ax.set(xlim=(lo, hi), ylim=(0, 1.05 * top))
            right = name == "x"  # keep clear of the spike in the deep (left) well
            drawn.append(ax.text(0.98 if right else 0.02, 0.97, f"T = {t_own:.3g}", fontsize=9,
                                 transform=ax.transAxes, va="top",
                                 ha="right" if right else "left"))
        return drawn


def draw_stationary(eta, sigma_x, sigma_y, *, rng=0):
    """The static figure of :class:`StationaryFigure`."""
    return StationaryFigure().update(eta=eta, sigma_x=sigma_x, sigma_y=sigma_y, rng=rng).fig


def stationary_explorer():
    r"""Sliders for :math:`\eta, \sigma_x, \sigma_y` of :class:`StationaryFigure`."""
    return explorer(
        lambda dpi: live(StationaryFigure, dpi), STATIONARY_DEFAULTS,
        {"eta": ("η (learning rate)", "FloatLogSlider", dict(base=10, min=-2.7, max=-1.3,
                 step=0.05, readout_format=".4f"), [0.002, 0.005, 0.01, 0.02, 0.04]),
         "sigma_x": ("σ_x (noise std of x)", "FloatSlider", dict(min=2.0, max=20.0, step=0.5),
                     [4.0, 7.0, 10.0, 14.0, 20.0]),
         "sigma_y": ("σ_y (noise std of y)", "FloatSlider", dict(min=2.0, max=20.0, step=0.5),
                     [2.0, 5.0, 10.0, 15.0, 20.0])},
        title="SGD's histograms of x and y against the Gibbs densities at their temperatures",
        uid="langevin-explorer")


#: The explorer, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {
    "stationary": (
        live(StationaryFigure),
        dict(STATIONARY_DEFAULTS),
        [{"eta": float(e), "sigma_x": float(sx), "sigma_y": float(sy)}
         for e, sx, sy in zip(np.geomspace(10**-2.7, 10**-1.3, 20), np.linspace(2.0, 20.0, 20),
                              np.linspace(20.0, 2.0, 20))],
    ),
}
