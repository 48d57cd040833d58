r"""Chapter 5 (RMSProp): the stationary cloud of SGD under three per-parameter rate rules.

On :math:`\mathcal L = \tfrac12(h_x x^2 + h_y y^2)` with gradient noise of standard deviations
:math:`\sigma_k`, a rule sets the rates from one knob :math:`\eta'` (``"SGD"``: :math:`\eta'`,
``"η/σ²"``: :math:`\eta'/\sigma_k^2`, ``"RMSProp"``: about :math:`\eta'/\sigma_k`; see
:mod:`sgdsim.book.rmsprop`). :func:`draw_cloud` draws a simulated cloud against the Gibbs
contours of :math:`e^{-2\mathcal L/\eta'}`; :func:`rmsprop_explorer` puts sliders on it.
"""

from __future__ import annotations

import numpy as np

from ..book.rmsprop import HESSIAN, RMSPROP_FACTOR_09, RULES, CloudResult, stationary_cloud
from ..claims import format_value
from ..plotting import PALETTE, ellipse
from . import LiveFigure, explorer, live

__all__ = ["HESSIAN", "RULES", "RMSPROP_FACTOR_09", "CloudResult", "stationary_cloud",
           "draw_cloud", "CloudFigure", "rmsprop_explorer"]


#: The explorer's starting controls (its seed is passed apart).
DEFAULTS = {"sigma_x": 0.5, "sigma_y": 2.0, "lr": 0.02, "rule": "RMSProp"}


def draw_cloud(ax, res: CloudResult, *, limit=None, legend=True, title=True, mathtext=True,
               stats=True) -> list:
    r"""Draw a :class:`CloudResult` on ``ax`` and return the artists: the cloud (at most
    600 chains), the Gibbs 1- and 2-sd ellipses of :math:`e^{-2\mathcal L/\eta'}`,
    the rule's predicted 2-sd ellipse and (``stats``) the measured temperatures."""
    h = res.hessian
    var_gibbs, var_pred = res.lr / 2.0 / h, res.predicted / h
    if limit is None:
        limit = 3.2 * float(np.sqrt(max(var_gibbs.max(), var_pred.max())))
    pts = res.points[:600]
    drawn = [ax.scatter(*pts.T, s=7, alpha=0.5, color=PALETTE["blue"], edgecolors="none",
                        label=f"chains ({len(pts)} shown)")]
    drawn += ax.plot(*ellipse(var_gibbs, k=1.0).T, color=PALETTE["black"], lw=1.2,
                     label=(r"Gibbs $e^{-2\mathcal{L}/\eta'}$: 1 and 2 sd" if mathtext
                            else "Gibbs exp(−2L/η′): 1 and 2 sd"))
    drawn += ax.plot(*ellipse(var_gibbs, k=2.0).T, color=PALETTE["black"], lw=1.2)
    drawn += ax.plot(*ellipse(var_pred, k=2.0).T, color=PALETTE["vermillion"], lw=2.0, ls="--",
                     label="this rule's predicted law: 2 sd")
    if stats:
        tx, ty = res.temperatures
        drawn.append(ax.text(
            0.02, 0.02, f"T(x) = {format_value(*tx)}\nT(y) = {format_value(*ty)}\n"
            f"T(x)/T(y) = {tx.value / ty.value:.3f}   (Gibbs: 1)",
            transform=ax.transAxes, fontsize=10, va="bottom",
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.85, edgecolor="0.7")))
    ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal",
           xlabel=r"$x - x^*$" if mathtext else "x − x*",
           ylabel=r"$y - y^*$" if mathtext else "y − y*")
    if title:
        sx, sy = res.sigma
        ax.set_title(f"{res.rule}: σx = {sx:g}, σy = {sy:g}, η′ = {res.lr:g}", fontsize=12)
    if legend:
        ax.legend(loc="upper right", fontsize=9)
    return drawn


class CloudFigure(LiveFigure):
    """The explorer's figure: a simulated cloud in a window rounded up to a power of √2 (its
    :attr:`key`: the axes are drawn once per window)."""

    figsize = (4.8, 4.5)

    def setup(self):
        self.ax = self.fig.add_subplot()
        self.fig.subplots_adjust(left=0.16, right=0.97, bottom=0.12, top=0.95)

    def draw(self, sigma_x=0.5, sigma_y=2.0, lr=0.02, rule="RMSProp", rng=0):
        res = stationary_cloud(sigma_x, sigma_y, lr, rule, rng=rng)
        var = max((res.lr / 2.0 / res.hessian).max(), (res.predicted / res.hessian).max())
        self.key = 2 ** (np.ceil(2 * np.log2(3.2 * np.sqrt(var))) / 2)
        return draw_cloud(self.ax, res, limit=self.key, mathtext=False, title=False,
                          legend=self.ax.get_legend() is None)


def rmsprop_explorer(rng=0):
    """Sliders for σx, σy, η′ and a rule chooser, redrawing :class:`CloudFigure`."""
    return explorer(
        lambda dpi: live(CloudFigure, dpi),
        dict(DEFAULTS, rng=rng),
        {"sigma_x": ("σx", "FloatSlider", dict(min=0.5, max=2.0, step=0.1),
                     [0.5, 0.75, 1.0, 1.5, 2.0]),
         "sigma_y": ("σy", "FloatSlider", dict(min=0.5, max=2.0, step=0.1), [0.5, 1.0, 1.5, 2.0]),
         "lr": ("η′", "FloatSlider", dict(min=0.01, max=0.05, step=0.005, readout_format=".3f"),
                [0.01, 0.02, 0.03, 0.04, 0.05]),
         "rule": ("rule", "Dropdown", {"options": list(RULES)}, None)},
        title="The stationary cloud of a two-coordinate quadratic under the chosen rule, "
              "with the Gibbs ellipses", uid="rmsprop-explorer")


#: The explorer, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {
    "stationary_cloud": (
        live(CloudFigure),
        dict(DEFAULTS, rng=0),
        [{"sigma_x": float(sx), "sigma_y": float(sy), "lr": float(lr), "rule": rule}
         for (sx, sy, lr), rule in zip(zip(np.linspace(0.5, 2.0, 20), np.linspace(2.0, 0.5, 20),
                                           np.linspace(0.01, 0.05, 20)), list(RULES) * 7)],
    ),
}
