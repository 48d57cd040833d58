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

from dataclasses import dataclass

import numpy as np

from ..dynamics import sgd
from ..claims import format_value
from ..plotting import PALETTE, ellipse
from ..preconditioners import Diagonal, RMSProp
from ..problems import NoisyPotential
from ..estimators import virial_matrix
from ..laws import sgd_stationary_cov
from . import EXPLORER_DPI
from . import render_png as _render_figure

from . import StaticExplorer, static_build

__all__ = ["RULES", "RMSPROP_FACTOR_09", "CloudResult", "stationary_cloud", "draw_cloud",
           "render_png", "rmsprop_explorer"]

#: The three rules, in the order of the chooser.
RULES = ("SGD", "η/σ²", "RMSProp")
#: c(0.9) from ``sgdsim.rmsprop_temperature_factor(0.9)`` (0.9718 ± 0.0003): T = c η σ / 2.
RMSPROP_FACTOR_09 = 0.9718
#: Curvatures (h_x, h_y) of the widget's loss.
HESSIAN = (1.0, 3.0)


@dataclass(frozen=True)
class CloudResult:
    """A simulated stationary cloud and its temperatures."""

    rule: str
    lr: float
    sigma: np.ndarray  #: (sigma_x, sigma_y)
    hessian: np.ndarray  #: (h_x, h_y)
    points: np.ndarray  #: final positions, (chains, 2)
    temperatures: tuple  #: measured (T_x, T_y) as Estimates
    predicted: np.ndarray  #: predicted (T_x, T_y)
    steps: int


def _problem(sigma, h):
    return NoisyPotential(lambda p: 0.5 * (p * p) @ h, lambda p: p * h, sigma**2,
                          minimizer=[0.0, 0.0])


def _rule_setup(rule, sigma, h, lr):
    """Preconditioner, per-coordinate contraction eps_k, predicted temperatures."""
    if rule == "SGD":
        pre, scales = None, np.ones(2)
    elif rule == "η/σ²":
        pre, scales = Diagonal(1.0 / sigma**2), 1.0 / sigma**2
    elif rule == "RMSProp":
        pre, scales = RMSProp(beta=0.9), 1.0 / sigma
    else:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if rule == "RMSProp":
        pred = RMSPROP_FACTOR_09 * lr * sigma / 2.0
    else:
        cov = sgd_stationary_cov(np.diag(h), np.diag(sigma**2), lr, preconditioner=scales)
        pred = np.diag(cov) * h
    return pre, lr * scales * h, pred


def stationary_cloud(sigma_x, sigma_y, lr, rule, *, rng, chains=300, hessian=HESSIAN,
                     max_steps=3000, steps=None, record_every=None) -> CloudResult:
    r"""Simulate ``chains`` SGD chains from the minimum under ``rule`` and measure :math:`T_x, T_y`.

    The run lasts :math:`\lceil 6/\epsilon_{\min}\rceil` steps (at most
    ``max_steps``; ``steps`` overrides), :math:`\epsilon_k = \eta_k h_k` the
    per-step contraction of the slowest coordinate; the temperatures are the
    diagonal of :func:`sgdsim.adaptive.virial_matrix` over the second half of the run.

    Parameters
    ----------
    sigma_x, sigma_y : float > 0
        Gradient-noise standard deviations.
    lr : float > 0
        :math:`\eta'`.
    rule : {"SGD", "η/σ²", "RMSProp"}
    rng : numpy.random.Generator or int
    chains : int
    hessian : (float, float)
        :math:`(h_x, h_y)`.
    max_steps : int
    steps, record_every : int, optional
        Override the automatic run length and recording interval (about 200 records).
    """
    sigma = np.array([sigma_x, sigma_y], dtype=float)
    h = np.asarray(hessian, dtype=float)
    if not (np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise ValueError(f"sigma_x and sigma_y must be > 0, got {sigma_x!r}, {sigma_y!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be > 0, got {lr!r}")
    pre, eps, pred = _rule_setup(rule, sigma, h, float(lr))
    if steps is None:
        steps = int(min(max_steps, max(200, np.ceil(6.0 / eps.min()))))
    every = max(1, steps // 200) if record_every is None else record_every
    problem = _problem(sigma, h)
    traj = sgd(problem, [0.0, 0.0], lr, steps, chains=chains, rng=rng, record_every=every,
               preconditioner=pre)
    v = virial_matrix(problem, traj.phi[len(traj) // 2:])
    return CloudResult(rule=rule, lr=float(lr), sigma=sigma, hessian=h, points=traj.final,
                       temperatures=tuple(v.diagonal), predicted=pred, steps=steps)


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


def rmsprop_explorer(seed: int = 0, *, sigma_x=0.5, sigma_y=2.0, lr=0.02, rule="RMSProp"):
    """Sliders for σx, σy, η′ and a rule chooser, redrawing the stationary cloud."""
    if static_build():  # a build executes this cell: no widget, no comm
        return StaticExplorer()
    import ipywidgets as w
    from IPython.display import Image, display

    from . import explorer

    def draw(sigma_x, sigma_y, lr, rule):
        res = stationary_cloud(sigma_x, sigma_y, lr, rule, rng=seed)
        display(Image(data=render_png(res), width=480))

    return explorer(
        draw,
        sigma_x=w.FloatSlider(value=sigma_x, min=0.5, max=2.0, step=0.1, description="σx"),
        sigma_y=w.FloatSlider(value=sigma_y, min=0.5, max=2.0, step=0.1, description="σy"),
        lr=w.FloatSlider(value=lr, min=0.01, max=0.05, step=0.005, description="η′",
                         readout_format=".3f"),
        rule=w.Dropdown(options=list(RULES), value=rule, description="rule"),
    )


def _registered_draw(sigma_x=0.5, sigma_y=2.0, lr=0.02, rule="RMSProp", seed=0):
    """One explorer update: simulate the stationary cloud and render it (PNG bytes)."""
    return render_png(stationary_cloud(sigma_x, sigma_y, lr, rule, rng=seed))


#: The explorer, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {
    "stationary_cloud": (
        _registered_draw,
        {"sigma_x": 0.5, "sigma_y": 2.0, "lr": 0.02, "rule": "RMSProp", "seed": 0},
        [{"sigma_x": float(sx), "sigma_y": float(sy), "lr": float(lr), "rule": rule}
         for (sx, sy, lr), rule in zip(
             zip(np.linspace(0.5, 2.0, 20), np.linspace(2.0, 0.5, 20), np.linspace(0.01, 0.05, 20)),
             list(RULES) * 7)],
    ),
}
