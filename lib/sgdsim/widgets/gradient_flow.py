r"""Chapter 1 (gradient flow): gradient descent drawn on top of the flow it discretizes.

A :class:`Scene` holds what does not depend on the step size; :class:`SceneFigure` draws it
in two stacked panels, 6.4 in wide (readable on a phone): the loss contours with the flow and
the iterates, and the excess loss :math:`\mathcal L - \mathcal L^*` against time, the iterates
at :math:`t_k = k\eta`. The chapter's static figures (:func:`draw_scene`) and its explorer
share it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import as_finite_array, as_positive_int, as_rate
from ..dynamics import DivergenceError, gradient_descent, gradient_flow
from ..plotting import PALETTE, unicode_log_ticks
from ..book import gradient_flow as chapter
from . import EXPLORER_DPI, LiveFigure, explorer, lazily, live

__all__ = ["Scene", "SceneFigure", "make_scene", "gd_path", "draw_scene",
           "gradient_flow_explorer", "FIGSIZE"]

#: Most gradient-descent steps one redraw simulates (keeps an update fast).
MAX_STEPS = 600
#: Size (inches) of a scene's figure: 640 CSS px wide, its 10-13 pt text readable on a phone.
FIGSIZE = (6.4, 9.3)
# Fixed margins (inches: a layout solver would cost more than a redraw): title and legend on
# top, then the contour panel and the loss panel.
_TOP_IN, _BOTTOM_IN, _LEFT_IN, _RIGHT_IN, _GAP_IN = 1.42, 0.62, 0.95, 0.2, 0.75
_GD_STYLE = dict(color=PALETTE["vermillion"], lw=0.8, ls="--", marker="o", ms=4)


class Scene(NamedTuple):
    r"""A 2-D problem prepared for drawing, from :math:`\Phi_0` up to time :math:`T` = ``t_end``.

    ``grid`` is ``(xx, yy, zz)``, the excess loss :math:`\mathcal L - \mathcal L^*` on the
    window's mesh, with geometric contour ``levels``; ``flow_phi`` (records, 2) is the flow
    at ``flow_time``. ``lam_max`` is the largest Hessian eigenvalue along the flow path
    (:math:`\eta\lambda_{\max} \ll 1` makes gradient descent *accurate* all along it);
    ``lam_star`` the largest at the minimizer (gradient descent is *stable* near
    :math:`\Phi^*` iff :math:`\eta\lambda^* < 2`); for a quadratic they are equal.
    """

    name: str
    problem: object
    phi0: np.ndarray
    t_end: float
    xlim: tuple
    ylim: tuple
    grid: tuple
    levels: np.ndarray
    flow_time: np.ndarray
    flow_phi: np.ndarray
    loss_star: float
    lam_max: float
    lam_star: float


def _interval(lim, name):
    lim = as_finite_array(lim, name, shape=(2,))
    if not lim[0] < lim[1]:
        raise ValueError(f"{name} must be (low, high) with low < high, got {tuple(lim)}")
    return (float(lim[0]), float(lim[1]))


def make_scene(problem, phi0, t_end, xlim, ylim, *, name="", n_grid=121, n_flow=401) -> Scene:
    r"""The :class:`Scene` of a 2-D ``problem`` in the window ``xlim, ylim``, up to ``t_end``
    (:math:`\lceil T/\eta\rceil` steps of gradient descent), with 12 contour levels; ``name``
    labels it; ``n_grid, n_flow`` count grid points per axis and flow records."""
    dim = getattr(problem, "dim", None)
    if dim != 2:
        raise ValueError(f"make_scene needs a 2-D problem, got dim={dim}")
    phi0 = as_finite_array(phi0, "phi0", shape=(2,))
    t_end = as_rate(t_end, "t_end")
    xlim, ylim = _interval(xlim, "xlim"), _interval(ylim, "ylim")
    n_grid = as_positive_int(n_grid, "n_grid", minimum=10)
    n_flow = as_positive_int(n_flow, "n_flow", minimum=2)
    loss_star = float(problem.loss(problem.minimizer()))
    xx, yy = np.meshgrid(np.linspace(*xlim, n_grid), np.linspace(*ylim, n_grid))
    zz = problem.loss(np.stack([xx, yy], axis=-1)) - loss_star
    times = np.linspace(0.0, t_end, n_flow)
    flow = gradient_flow(problem, phi0, times).phi[:, 0]
    return Scene(str(name), problem, phi0, t_end, xlim, ylim, (xx, yy, zz),
                 np.geomspace(zz.max() * 1e-3, zz.max() * 0.9, 12), times, flow, loss_star,
                 float(np.linalg.eigvalsh(problem.hessian(flow))[:, -1].max()),
                 2.0 / problem.max_stable_lr())


def gd_path(scene: Scene, lr: float, *, max_steps: int = MAX_STEPS):
    r"""Gradient descent from ``scene.phi0`` at rate ``lr``: times :math:`t_k = k\eta`, iterates.

    Runs :math:`\min(\lceil T/\eta\rceil, \text{max\_steps})` steps. A run that blows up
    is shown, not refused: while the iterates pass ``1e150`` the number of steps is halved.
    """
    lr = as_rate(lr)
    steps = int(min(np.ceil(scene.t_end / lr - 1e-9), as_positive_int(max_steps, "max_steps")))
    while True:
        try:
            traj = gradient_descent(scene.problem, scene.phi0, lr, steps, max_norm=1e150)
            return traj.time, traj.phi[:, 0]
        except DivergenceError:
            if steps == 1:
                raise
            steps //= 2


class SceneFigure(LiveFigure):
    """The figure of one :class:`Scene` (``scene=``); :meth:`draw` adds gradient descent at
    rate ``lr``. The one legend sits above both panels, so that no path hides behind it."""

    figsize = FIGSIZE

    def setup(self, scene: Scene):
        self.scene, fig = scene, self.fig
        width, height = fig.get_size_inches()
        ax, ax2 = fig.subplots(2, 1, gridspec_kw={
            "height_ratios": (1.55, 1.0), "left": _LEFT_IN / width,
            "hspace": _GAP_IN / ((height - _TOP_IN - _BOTTOM_IN - _GAP_IN) / 2),
            "right": 1 - _RIGHT_IN / width, "bottom": _BOTTOM_IN / height,
            "top": 1 - _TOP_IN / height})
        ax.contour(*scene.grid, levels=scene.levels, colors="0.65", linewidths=0.8)
        ax.plot(*scene.flow_phi.T, color=PALETTE["blue"], lw=2.5, label="gradient flow Φ(t)")
        ax.plot([], [], **_GD_STYLE, label="gradient descent Φₖ, plotted at tₖ = kη")
        ax.plot(*scene.problem.minimizer(), marker="*", ms=13, color=PALETTE["black"],
                ls="none", label="minimizer Φ*")
        ax.plot(*scene.phi0, marker="s", ms=7, color=PALETTE["green"], ls="none",
                label="start Φ₀")
        ax.set(xlim=scene.xlim, ylim=scene.ylim, xlabel="Φ₁", ylabel="Φ₂")
        ax.set_aspect("equal", adjustable="box", anchor="C")
        fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=2,
                   bbox_to_anchor=(0.5, 1 - (_TOP_IN - 0.06) / height), fontsize=10,
                   frameon=False, columnspacing=1.5, handlelength=2.2)
        flow_ex = scene.problem.loss(scene.flow_phi) - scene.loss_star
        ax2.semilogy(scene.flow_time, flow_ex, color=PALETTE["blue"], lw=2.5)
        ax2.set(xlim=(0, scene.t_end), ylim=(max(flow_ex[flow_ex > 0].min(), 1e-12) / 3,
                                             flow_ex.max() * 30),
                xlabel="time t (sum of learning rates)", ylabel="excess loss L(Φ) − L(Φ*)")
        unicode_log_ticks(ax2.yaxis)  # plain text, no mathtext to parse
        self.title = fig.suptitle("", y=1 - 0.08 / height, va="top", fontsize=11.5,
                                  linespacing=1.3)
        self.axes, self.redrawn = (ax, ax2), [self.title]

    def draw(self, lr):
        s, lr = self.scene, float(lr)
        t, phi = gd_path(s, lr)
        ex = s.problem.loss(phi) - s.loss_star
        local = lr * s.lam_star
        last = f"largest η·λ along the flow = {lr * s.lam_max:.2f}"
        if t[-1] < s.t_end - 1e-9:
            last += f";  first {t.size - 1} steps shown"
        self.title.set_text(f"{s.name}: gradient descent, η = {lr:.3g}\nη·λ* = {local:.2f} at "
                            f"the minimizer ({'' if local < 2 else 'un'}stable near Φ*: limit 2)"
                            f"\n{last}")
        return [*self.axes[0].plot(*phi.T, **_GD_STYLE),
                *self.axes[1].plot(t[ex > 0], ex[ex > 0], **_GD_STYLE)]


def draw_scene(scene: Scene, lr: float):
    """The static figure of ``scene`` with gradient descent at rate ``lr``."""
    return SceneFigure(scene=scene).update(lr=lr).fig


def _scenes_draw(scenes, dpi):
    """``draw(scene, lr_times_lam)`` -> PNG: a live :class:`SceneFigure` per scene name."""
    draws = {s.name: (s, live(SceneFigure, dpi, scene=s)) for s in scenes}

    def draw(scene, lr_times_lam):
        s, d = draws[scene]
        return d(lr=lr_times_lam / s.lam_star)

    return draw


def gradient_flow_explorer(scenes, *, lr_times_lam=0.5):
    r"""Choose a scene (:func:`make_scene`) and slide :math:`\eta\lambda^*`, the rate in units of
    the curvature at the minimizer (2 is the stability limit near :math:`\Phi^*`)."""
    scenes = list(scenes)
    names = [s.name for s in scenes]
    if not names:
        raise ValueError("gradient_flow_explorer needs at least one Scene")
    if len(set(names)) != len(names):
        raise ValueError("scene names must be distinct")
    return explorer(
        lambda dpi: _scenes_draw(scenes, dpi), {"scene": names[0], "lr_times_lam": lr_times_lam},
        {"scene": ("problem", "Dropdown", {"options": names}, None),
         "lr_times_lam": ("η·λ*", "FloatSlider", dict(min=0.05, max=2.4, step=0.05,
                          readout_format=".2f"), np.arange(0.1, 2.45, 0.2).round(2).tolist())},
        title="Gradient descent against the gradient flow on the chosen problem",
        uid="gradient-flow-explorer")


#: The explorer, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {"flow_vs_gd": (
    lazily(lambda: _scenes_draw([
        make_scene(chapter.quadratic_problem(), chapter.QUADRATIC_START, 8.0, (-2.6, 3.2),
                   (-1.2, 3.8), name="quadratic"),
        make_scene(chapter.logistic_problem(), chapter.LOGISTIC_START, 300.0, (-4.0, 1.5),
                   (-3.6, 2.0), name="logistic")], EXPLORER_DPI)),
    {"scene": "quadratic", "lr_times_lam": 0.5},
    [{"scene": p, "lr_times_lam": float(v)}
     for p in ("quadratic", "logistic") for v in np.linspace(0.1, 2.3, 10)])}
