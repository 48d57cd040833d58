r"""Chapter 5 (RMSProp): the stationary cloud of SGD under three per-parameter rate rules.

The problem is the separable quadratic :math:`\mathcal L = \tfrac12(h_x x^2 + h_y y^2)`
with Gaussian gradient noise of standard deviations :math:`(\sigma_x, \sigma_y)`.
A *rule* sets the per-parameter rates from one knob :math:`\eta'`:

* ``"SGD"``: :math:`\eta_k = \eta'`, so :math:`T_k = \eta'\sigma_k^2/2`;
* ``"η/σ²"``: :math:`\eta_k = \eta'/\sigma_k^2`, so :math:`T_k = \eta'/2` (Gibbs);
* ``"RMSProp"``: :math:`\eta_k = \eta'/\sqrt{v_k} \approx \eta'/\sigma_k`, so
  :math:`T_k \approx c(\beta)\,\eta'\sigma_k/2`.

:func:`stationary_cloud` simulates it, :func:`draw_cloud` draws the cloud with
the Gibbs contours of :math:`e^{-2\mathcal L/\eta'}` and the rule's predicted
law, and :func:`rmsprop_explorer` wires both to sliders.
"""

from __future__ import annotations

import numpy as np

from ..book.rmsprop import HESSIAN, RMSPROP_FACTOR_09, RULES, CloudResult, stationary_cloud
from ..claims import format_value
from ..plotting import PALETTE, ellipse
from . import EXPLORER_DPI
from . import render_png as _render_figure

from . import player, static_build, static_view

__all__ = ["RULES", "RMSPROP_FACTOR_09", "CloudResult", "stationary_cloud", "draw_cloud",
           "render_png", "rmsprop_explorer"]

def draw_cloud(ax, res: CloudResult, *, limit=None, legend=True, title=True, mathtext=True,
               max_points=600, stats=True):
    r"""Draw a :class:`CloudResult`: the cloud, Gibbs contours of :math:`e^{-2\mathcal L/\eta'}`
    (1 and 2 standard deviations), the rule's predicted 2-sd ellipse, and the temperatures.

    ``mathtext=False`` writes the labels in plain Unicode, which redraws faster (widgets);
    at most ``max_points`` chains are drawn (the temperatures use all of them).
    ``stats=False`` leaves out the box of measured temperatures (for small panels whose
    caller shows them elsewhere, e.g. in the title or a shared legend cell).
    """
    h = res.hessian
    t_gibbs = res.lr / 2.0
    var_gibbs = t_gibbs / h
    var_pred = res.predicted / h
    if limit is None:
        limit = 3.2 * float(np.sqrt(max(var_gibbs.max(), var_pred.max())))
    pts = res.points[:max_points]
    ax.scatter(pts[:, 0], pts[:, 1], s=7, alpha=0.5, color=PALETTE["blue"],
               edgecolors="none", label=f"chains ({len(pts)} shown)")
    ax.plot(*ellipse(var_gibbs, k=1.0).T, color=PALETTE["black"], lw=1.2,
             label=(r"Gibbs $e^{-2\mathcal{L}/\eta'}$: 1 and 2 sd" if mathtext
                    else "Gibbs exp(−2L/η′): 1 and 2 sd"))
    ax.plot(*ellipse(var_gibbs, k=2.0).T, color=PALETTE["black"], lw=1.2)
    ax.plot(*ellipse(var_pred, k=2.0).T, color=PALETTE["vermillion"], lw=2.0, ls="--",
             label="this rule's predicted law: 2 sd")
    if stats:
        tx, ty = res.temperatures
        ax.text(0.02, 0.02,
                # plain text (no mathtext): the numbers change at every redraw
                f"T(x) = {format_value(*tx)}\nT(y) = {format_value(*ty)}\n"
                f"T(x)/T(y) = {tx.value / ty.value:.3f}   (Gibbs: 1)",
                transform=ax.transAxes, fontsize=10, va="bottom",
                bbox=dict(boxstyle="round", facecolor="white", alpha=0.85, edgecolor="0.7"))
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$x - x^*$" if mathtext else "x − x*")
    ax.set_ylabel(r"$y - y^*$" if mathtext else "y − y*")
    if title:
        sx, sy = res.sigma
        ax.set_title(f"{res.rule}: σx = {sx:g}, σy = {sy:g}, η′ = {res.lr:g}", fontsize=12)
    if legend:
        ax.legend(loc="upper right", fontsize=9)
    return ax


def render_png(res: CloudResult, *, dpi=EXPLORER_DPI) -> bytes:
    """Draw ``res`` (plain-text labels) and return PNG bytes, in one pass.

    A fixed layout and no tight bounding box (:func:`sgdsim.widgets.render_png`) make
    this about a third faster than the inline backend's two-pass retina rendering.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.8, 4.5), layout="none")
    draw_cloud(fig.add_subplot(), res, mathtext=False)
    fig.subplots_adjust(left=0.16, right=0.97, bottom=0.12, top=0.92)
    return _render_figure(fig, dpi=dpi)


def rmsprop_explorer(rng=0, *, sigma_x=0.5, sigma_y=2.0, lr=0.02, rule="RMSProp"):
    """Sliders for σx, σy, η′ and a rule chooser, redrawing the stationary cloud."""
    if static_build():  # a build executes this cell: a precomputed player, no widget
        defaults = {"sigma_x": sigma_x, "sigma_y": sigma_y, "lr": lr, "rule": rule, "rng": rng}
        return static_view(lambda: player(
            _registered_draw, defaults, PLAYER_CONTROLS, uid="rmsprop-explorer",
            labels={"sigma_x": "σx", "sigma_y": "σy", "lr": "η′", "rule": "rule"},
            title="The stationary cloud of a two-coordinate quadratic under the chosen rule, "
                  "with the Gibbs ellipses"))
    import ipywidgets as w
    from IPython.display import Image, display

    from . import explorer

    def draw(sigma_x, sigma_y, lr, rule):
        res = stationary_cloud(sigma_x, sigma_y, lr, rule, rng=rng)
        display(Image(data=render_png(res), width=480))

    return explorer(
        draw,
        sigma_x=w.FloatSlider(value=sigma_x, min=0.5, max=2.0, step=0.1, description="σx"),
        sigma_y=w.FloatSlider(value=sigma_y, min=0.5, max=2.0, step=0.1, description="σy"),
        lr=w.FloatSlider(value=lr, min=0.01, max=0.05, step=0.005, description="η′",
                         readout_format=".3f"),
        rule=w.Dropdown(options=list(RULES), value=rule, description="rule"),
    )


def _registered_draw(sigma_x=0.5, sigma_y=2.0, lr=0.02, rule="RMSProp", rng=0):
    """One explorer update: simulate the stationary cloud and render it (PNG bytes)."""
    return render_png(stationary_cloud(sigma_x, sigma_y, lr, rule, rng=rng))


#: The player's positions (one control at a time; the defaults are among them).
PLAYER_CONTROLS = {"sigma_x": [0.5, 0.75, 1.0, 1.5, 2.0], "sigma_y": [0.5, 1.0, 1.5, 2.0],
                   "lr": [0.01, 0.02, 0.03, 0.04, 0.05], "rule": list(RULES)}

#: The explorer, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {
    "stationary_cloud": (
        _registered_draw,
        {"sigma_x": 0.5, "sigma_y": 2.0, "lr": 0.02, "rule": "RMSProp", "rng": 0},
        [{"sigma_x": float(sx), "sigma_y": float(sy), "lr": float(lr), "rule": rule}
         for (sx, sy, lr), rule in zip(
             zip(np.linspace(0.5, 2.0, 20), np.linspace(2.0, 0.5, 20), np.linspace(0.01, 0.05, 20)),
             list(RULES) * 7)],
    ),
}
