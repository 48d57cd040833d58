r"""Chapter 1 (gradient flow): gradient descent drawn on top of the flow it discretizes.

A :class:`Scene` holds everything about one 2-D problem that does not depend on
the step size -- the loss on a contour grid, the gradient-flow path, the
curvatures that set the accuracy and the stability of gradient descent -- so
it is computed once. :func:`draw_scene` then runs gradient descent for one
step size and draws, in two panels stacked so that the figure is
:data:`FIGSIZE` = 6.4 in wide (readable when a phone scales it to its width):

* top: the loss contours, the flow path and the gradient-descent iterates;
* bottom: the excess loss :math:`\mathcal L - \mathcal L^*` against time
  :math:`t`, the flow as a curve and the iterates as markers at
  :math:`t_k = k\eta`.

The chapter's static figures (:func:`draw_scene`) and its explorer
(:func:`gradient_flow_explorer`) draw with the same class, :class:`SceneFigure`,
so the website's picture is the widget's default.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from .._validation import as_finite_array, as_positive_int
from ..dynamics import DivergenceError, gradient_descent, gradient_flow
from ..plotting import PALETTE, unicode_log_ticks
from . import EXPLORER_DPI, explorer

from . import player, static_build, static_view

__all__ = ["Scene", "SceneFigure", "make_scene", "gd_path", "draw_scene",
           "gradient_flow_explorer", "FIGSIZE"]

#: Most gradient-descent steps one redraw simulates (keeps an update fast).
MAX_STEPS = 600

#: Size (inches) of a scene's figure: the panels are stacked, so that the figure is at
#: most 6.4 in = 640 CSS px wide and its 10-13 pt text stays readable on a phone.
FIGSIZE = (6.4, 9.3)

# Fixed margins, in inches from the figure's edges (the layout solver of constrained
# layout would take most of a redraw's time): title, figure legend, contour panel, loss panel.
_TOP_IN, _BOTTOM_IN, _LEFT_IN, _RIGHT_IN, _GAP_IN = 1.42, 0.62, 0.95, 0.2, 0.75
_HEIGHT_RATIOS = (1.55, 1.0)


@dataclass(frozen=True)
class Scene:
    """A 2-D problem prepared for drawing: contour grid and flow path computed once.

    Attributes
    ----------
    name : str
    problem : Problem
    phi0 : numpy.ndarray, shape (2,)
        The common starting point of the flow and of gradient descent.
    t_end : float
        Time horizon :math:`T` drawn.
    xlim, ylim : tuple of float
        The window of the contour plot.
    grid : tuple of numpy.ndarray
        ``(xx, yy, zz)``: the window's mesh and the excess loss
        :math:`\\mathcal L - \\mathcal L^*` on it.
    levels : numpy.ndarray
        Geometrically spaced contour levels of the excess loss.
    flow_time, flow_phi : numpy.ndarray
        The flow at ``flow_time`` (shape ``(records,)`` and ``(records, 2)``).
    loss_star : float
        :math:`\\mathcal L(\\Phi^*)`.
    lam_max : float
        :math:`\\lambda_{\\max}`, the largest Hessian eigenvalue met along the
        flow path: :math:`\\eta\\lambda_{\\max} \\ll 1` is what makes gradient
        descent *accurate* along the whole path.
    lam_star : float
        :math:`\\lambda^*`, the largest Hessian eigenvalue at the minimizer:
        gradient descent is *stable* near :math:`\\Phi^*` iff :math:`\\eta\\lambda^* < 2`
        (``2 / lam_star`` is ``problem.max_stable_lr()``). For a quadratic the two
        are equal; the explorer's slider is :math:`\\eta\\lambda^*`.
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


def make_scene(problem, phi0, t_end, xlim, ylim, *, name="", n_grid=121, n_levels=12,
               n_flow=401) -> Scene:
    r"""Precompute what the drawing of a 2-D problem needs, independent of the step size.

    Parameters
    ----------
    problem : Problem
        A 2-D problem with ``minimizer()`` and ``hessian(phi)``.
    phi0 : array_like, shape (2,)
        Starting point.
    t_end : float > 0
        Horizon :math:`T` of the flow (and of gradient descent: :math:`\lceil T/\eta\rceil` steps).
    xlim, ylim : (float, float)
        Window of the contour plot.
    name : str
        Label used in titles and in the explorer's chooser.
    n_grid, n_levels, n_flow : int
        Contour-grid points per axis, number of contour levels, flow records.
    """
    if getattr(problem, "dim", None) != 2:
        raise ValueError(f"make_scene needs a 2-D problem, got dim={getattr(problem, 'dim', None)}")
    phi0 = as_finite_array(phi0, "phi0", shape=(2,))
    t_end = float(as_finite_array(t_end, "t_end", ndim=0))
    if not t_end > 0:
        raise ValueError(f"t_end must be > 0, got {t_end:g}")
    xlim, ylim = _interval(xlim, "xlim"), _interval(ylim, "ylim")
    n_grid = as_positive_int(n_grid, "n_grid", minimum=10)
    n_levels = as_positive_int(n_levels, "n_levels", minimum=2)
    n_flow = as_positive_int(n_flow, "n_flow", minimum=2)

    star = problem.minimizer()
    loss_star = float(problem.loss(star))
    xx, yy = np.meshgrid(np.linspace(*xlim, n_grid), np.linspace(*ylim, n_grid))
    zz = problem.loss(np.stack([xx, yy], axis=-1)) - loss_star
    top = float(zz.max())
    levels = np.geomspace(top * 1e-3, top * 0.9, n_levels)

    times = np.linspace(0.0, t_end, n_flow)
    flow = gradient_flow(problem, phi0, times).phi[:, 0]
    lam = float(np.linalg.eigvalsh(problem.hessian(flow))[:, -1].max())
    return Scene(name=str(name), problem=problem, phi0=phi0, t_end=t_end, xlim=xlim, ylim=ylim,
                 grid=(xx, yy, zz), levels=levels, flow_time=times, flow_phi=flow,
                 loss_star=loss_star, lam_max=lam, lam_star=2.0 / problem.max_stable_lr())


def gd_path(scene: Scene, lr: float, *, max_steps: int = MAX_STEPS):
    r"""Gradient descent from ``scene.phi0`` with constant rate ``lr`` up to time ``scene.t_end``.

    Runs :math:`\min(\lceil T/\eta\rceil, \text{max\_steps})` steps. A run that
    blows up is shown, not refused: if the iterates pass ``1e150`` (on their way
    to overflowing), the number of steps is halved until they stay below, so
    the drawing shows the path leaving the window.

    Returns
    -------
    times : numpy.ndarray, shape (steps + 1,)
        :math:`t_k = k\eta`.
    phi : numpy.ndarray, shape (steps + 1, 2)
    """
    lr = float(as_finite_array(lr, "lr", ndim=0))
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr:g}")
    max_steps = as_positive_int(max_steps, "max_steps")
    steps = int(min(np.ceil(scene.t_end / lr - 1e-9), max_steps))
    while True:
        try:
            traj = gradient_descent(scene.problem, scene.phi0, lr, steps, max_norm=1e150)
            return traj.time, traj.phi[:, 0]
        except DivergenceError:
            if steps == 1:
                raise
            steps //= 2


class SceneFigure:
    r"""The figure of one scene, with the gradient-descent artists updatable in place.

    Top panel: contours of :math:`\mathcal L - \mathcal L^*`, the flow path
    (line) and the gradient-descent iterates (markers). Bottom panel:
    :math:`\mathcal L - \mathcal L^*` against time, the flow as a curve and the
    iterates at :math:`t_k = k\eta`. The one legend, for both panels, sits above
    them, outside the axes, so that no step size can hide a path behind it. Everything
    but the iterates and the title depends only on the scene.

    Parameters
    ----------
    scene : Scene
    lr : float
        The gradient-descent rate :math:`\eta` drawn first.
    fig : matplotlib.figure.Figure, optional
        Figure to draw into (default: a new pyplot figure of size :data:`FIGSIZE`).
        The margins are fixed in inches for that size.
    animated : bool
        Mark the step-size-dependent artists as animated, so that
        :meth:`png` can redraw only them over a cached background (the explorer's
        fast path). Leave ``False`` for an ordinary static figure.
    max_steps : int
        Most gradient-descent steps simulated per drawing.
    """

    def __init__(self, scene: Scene, lr: float, *, fig=None, animated: bool = False,
                 max_steps: int = MAX_STEPS):
        self.scene = scene
        self.max_steps = as_positive_int(max_steps, "max_steps")
        if fig is None:
            import matplotlib.pyplot as plt

            # Fixed margins instead of constrained layout: the layout solver would
            # take most of a redraw's time.
            fig = plt.figure(figsize=FIGSIZE, layout="none")
        self.fig = fig
        width, height = fig.get_size_inches()
        ax, ax2 = fig.subplots(2, 1, gridspec_kw={
            "height_ratios": _HEIGHT_RATIOS,
            "hspace": _GAP_IN / ((height - _TOP_IN - _BOTTOM_IN - _GAP_IN) / 2),
            "left": _LEFT_IN / width, "right": 1 - _RIGHT_IN / width,
            "bottom": _BOTTOM_IN / height, "top": 1 - _TOP_IN / height})
        # Labels are plain Unicode, not mathtext: parsing mathtext would dominate a redraw.
        xx, yy, zz = scene.grid
        ax.contour(xx, yy, zz, levels=scene.levels, colors="0.65", linewidths=0.8)
        ax.plot(scene.flow_phi[:, 0], scene.flow_phi[:, 1], color=PALETTE["blue"], lw=2.5,
                label="gradient flow Φ(t)")
        (self._path,) = ax.plot([], [], color=PALETTE["vermillion"], lw=0.8, ls="--",
                                marker="o", ms=4,
                                label="gradient descent Φₖ, plotted at tₖ = kη",
                                animated=animated)
        star = scene.problem.minimizer()
        ax.plot(*star, marker="*", ms=13, color=PALETTE["black"], ls="none",
                label="minimizer Φ*")
        ax.plot(*scene.phi0, marker="s", ms=7, color=PALETTE["green"], ls="none",
                label="start Φ₀")
        ax.set_xlim(scene.xlim)
        ax.set_ylim(scene.ylim)
        ax.set_xlabel("Φ₁")
        ax.set_ylabel("Φ₂")
        # The box shrinks to equal scales, centred in the space the grid gives it.
        ax.set_aspect("equal", adjustable="box", anchor="C")
        # Above the panels, outside them: no path, however wild, goes behind the legend.
        # The loss panel draws the same two series in the same styles, so it needs none.
        top = 1 - _TOP_IN / height
        fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=2,
                   bbox_to_anchor=(0.5, top + 0.06 / height), fontsize=10,
                   frameon=False, columnspacing=1.5, handlelength=2.2)

        flow_ex = scene.problem.loss(scene.flow_phi) - scene.loss_star
        ax2.semilogy(scene.flow_time, flow_ex, color=PALETTE["blue"], lw=2.5)
        (self._loss,) = ax2.semilogy([], [], color=PALETTE["vermillion"], lw=0.8, ls="--",
                                     marker="o", ms=4, animated=animated)
        low = max(float(flow_ex[flow_ex > 0].min()), 1e-12)
        ax2.set_ylim(low / 3, float(flow_ex.max()) * 30)
        ax2.set_xlim(0, scene.t_end)
        # Plain-text tick labels (10⁻³): mathtext labels would dominate a redraw.
        unicode_log_ticks(ax2.yaxis)
        ax2.set_xlabel("time t (sum of learning rates)")
        ax2.set_ylabel("excess loss L(Φ) − L(Φ*)")
        self._title = fig.suptitle("", y=1 - 0.08 / height, va="top", fontsize=11.5,
                                   linespacing=1.3, animated=animated)
        self.axes = (ax, ax2)
        self._background = None
        self.update(lr)

    def update(self, lr: float) -> None:
        """Run gradient descent with rate ``lr`` and move the iterates' artists."""
        scene = self.scene
        t, phi = gd_path(scene, lr, max_steps=self.max_steps)
        self._path.set_data(phi[:, 0], phi[:, 1])
        ex = scene.problem.loss(phi) - scene.loss_star
        ok = ex > 0  # the loss panel is logarithmic
        self._loss.set_data(t[ok], ex[ok])
        lr = float(lr)
        local = lr * scene.lam_star
        verdict = "stable near Φ*" if local < 2 else "unstable near Φ*"
        # Plain text (no mathtext) in the one string that changes at every update; three
        # short lines, so that it fits the 6.4-in width.
        first = f"{scene.name}: gradient descent, η = {lr:.3g}"
        last = f"largest η·λ along the flow = {lr * scene.lam_max:.2f}"
        if t[-1] < scene.t_end - 1e-9:
            last += f";  first {t.size - 1} steps shown"
        self._title.set_text(f"{first}\nη·λ* = {local:.2f} at the minimizer "
                             f"({verdict}: limit 2)\n{last}")

    def png(self, dpi: float = 100) -> bytes:
        """Render to PNG bytes, redrawing only the animated artists over a cached background."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image

        canvas = self.fig.canvas
        if not isinstance(canvas, FigureCanvasAgg) or self.fig.dpi != dpi:
            self.fig.set_dpi(dpi)
            canvas = FigureCanvasAgg(self.fig)
            self._background = None
        if self._background is None:
            canvas.draw()  # animated artists are skipped
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        canvas.restore_region(self._background)
        for artist in (self._path, self._loss, self._title):
            self.fig.draw_artist(artist)
        buf = io.BytesIO()
        Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buf, format="png",
                                                               compress_level=1)
        return buf.getvalue()


def draw_scene(scene: Scene, lr: float, *, fig=None, max_steps: int = MAX_STEPS):
    r"""Draw the flow and gradient descent with rate ``lr`` on ``scene``; returns the figure.

    The static form of what the explorer shows (both use :class:`SceneFigure`).
    """
    return SceneFigure(scene, lr, fig=fig, max_steps=max_steps).fig


def gradient_flow_explorer(scenes, *, lr_times_lam=0.5, start=None, dpi=EXPLORER_DPI):
    r"""An explorer: choose a scene, slide :math:`\eta\lambda^*`; redraws the scene.

    Each scene's figure is drawn once (:class:`SceneFigure`); moving the slider
    re-runs gradient descent and redraws only the iterates and the title over
    the cached picture, so an update takes a few tens of milliseconds.

    Parameters
    ----------
    scenes : sequence of Scene
        Precomputed with :func:`make_scene` (their names label the chooser).
    lr_times_lam : float
        Initial slider value :math:`\eta\lambda^*`: the rate in units of the
        curvature at the minimizer (2 is the stability limit near :math:`\Phi^*`).
    start : str, optional
        Name of the initially chosen scene (default: the first).
    dpi : float
        Resolution of the rendered image.
    """
    from matplotlib.figure import Figure

    scenes = list(scenes)
    by_name = {s.name: s for s in scenes}
    if not by_name:
        raise ValueError("gradient_flow_explorer needs at least one Scene")
    if len(by_name) != len(scenes):
        raise ValueError("scene names must be distinct")
    start = next(iter(by_name)) if start is None else start
    if start not in by_name:
        raise ValueError(f"unknown scene {start!r}; choose from {list(by_name)}")
    figures = {}

    def png(scene, lr_times_lam):
        s = by_name[scene]
        lr = lr_times_lam / s.lam_star
        if scene not in figures:  # drawn once per scene, outside pyplot
            figures[scene] = SceneFigure(s, lr, fig=Figure(figsize=FIGSIZE, layout="none"),
                                          animated=True)
        else:
            figures[scene].update(lr)
        return figures[scene].png(dpi=dpi)

    if static_build():  # a build executes this cell: a precomputed player, no widget
        positions = sorted({round(float(v), 2) for v in np.arange(0.1, 2.45, 0.2)}
                           | {float(lr_times_lam)})
        return static_view(lambda: player(
            png, {"scene": start, "lr_times_lam": float(lr_times_lam)},
            {"scene": list(by_name), "lr_times_lam": positions}, uid="gradient-flow-explorer",
            labels={"scene": "problem", "lr_times_lam": "η·λ*"},
            title="Gradient descent against the gradient flow on the chosen problem"))
    import ipywidgets as w
    from IPython.display import Image, display

    def draw(scene, lr_times_lam):
        # Shown at its size at 100 dpi (CSS pixels), like the book's static figures.
        display(Image(data=png(scene, lr_times_lam), format="png",
                      width=int(round(FIGSIZE[0] * 100))))

    return explorer(
        draw,
        scene=w.Dropdown(options=list(by_name), value=start, description="problem"),
        lr_times_lam=w.FloatSlider(value=lr_times_lam, min=0.05, max=2.4, step=0.05,
                                   description="η·λ*",
                                   readout_format=".2f"),
    )


def _registered_explorer():
    """``draw(problem, lr_times_lam)`` doing what one update of the chapter's explorer does.

    The scenes are the chapter's two problems (:mod:`sgdsim.book.gradient_flow`); each is
    built on first use and its figure then only updated, as in the widget.
    """
    from matplotlib.figure import Figure

    from ..book import gradient_flow as chapter

    scenes, figures = {}, {}

    def scene(name):
        if name not in scenes:
            if name == "quadratic":
                scenes[name] = make_scene(chapter.quadratic_problem(), chapter.QUADRATIC_START,
                                          8.0, (-2.6, 3.2), (-1.2, 3.8), name=name)
            else:
                scenes[name] = make_scene(chapter.logistic_problem(), chapter.LOGISTIC_START,
                                          300.0, (-4.0, 1.5), (-3.6, 2.0), name=name)
        return scenes[name]

    def draw(problem="quadratic", lr_times_lam=0.5):
        s = scene(problem)
        lr = lr_times_lam / s.lam_star
        if problem not in figures:
            figures[problem] = SceneFigure(s, lr, fig=Figure(figsize=FIGSIZE, layout="none"),
                                           animated=True)
        else:
            figures[problem].update(lr)
        return figures[problem].png(dpi=EXPLORER_DPI)

    return draw


#: The explorer, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {
    "flow_vs_gd": (
        _registered_explorer(),
        {"problem": "quadratic", "lr_times_lam": 0.5},
        [{"problem": p, "lr_times_lam": float(v)}
         for p in ("quadratic", "logistic") for v in np.linspace(0.1, 2.3, 10)],
    ),
}
