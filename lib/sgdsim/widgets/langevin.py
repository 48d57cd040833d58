r"""Figures and explorers of the Langevin-dynamics chapter.

* :func:`draw_stationary` -- SGD's stationary histograms on the separable 2-D
  problem :math:`\mathcal L(x, y) = \mathcal L_x(x) + \mathcal L_y(y)` (a tilted
  double well in :math:`x`, a quadratic in :math:`y`) against the Gibbs densities
  at :math:`T_x = \eta\sigma_x^2/2` and :math:`T_y = \eta\sigma_y^2/2`, and SGD's
  exact finite-:math:`\eta` law; :func:`stationary_explorer` puts sliders for
  :math:`\eta, \sigma_x, \sigma_y` on it (the static figure of the chapter is
  ``draw_stationary(**STATIONARY_DEFAULTS)``).
* :func:`fokker_planck_animation` -- the SGD histogram following the
  Fokker--Planck density, as self-contained HTML (matplotlib's JavaScript player)
  that plays on a static page without a kernel.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from ..plotting import PALETTE
from ..book.langevin import KY, TILT, separable_factors
from ..gibbs import gibbs_density, sgd_stationary_density, temperature

from . import player, static_build, static_view

__all__ = [
    "STATIONARY_DEFAULTS",
    "separable_factors",
    "draw_stationary",
    "stationary_explorer",
    "fokker_planck_animation",
    "deterministic_ids",
]

#: The explorer's starting point (and the chapter's static figure).
STATIONARY_DEFAULTS = {"eta": 0.01, "sigma_x": 10.0, "sigma_y": 5.0}

_LEGEND_ORDER = ("SGD histogram", "Gibbs at its own T = ησ²/2", "SGD's exact law at this η",
                 "Gibbs at the other coordinate's T")


def _gibbs_samples(problem, grid, t, size, gen):
    """Exact draws from the Gibbs density on a fine grid (inverse CDF)."""
    p = gibbs_density(problem.loss, grid, t)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * np.diff(grid))])
    cdf /= cdf[-1]
    return np.interp(gen.random(size), cdf, grid)


def _range(problem, t, lo, hi, n=801):
    """An interval holding the Gibbs mass at temperature t (loss within 25 t of its minimum)."""
    g = np.linspace(lo, hi, n)
    keep = problem.loss(g[:, None]) - problem.loss(g[:, None]).min() < 25 * t
    return g[keep][0], g[keep][-1]


def draw_stationary(eta, sigma_x, sigma_y, *, rng=0, chains=400, steps=400, axes=None,
                    dpi=None):
    r"""SGD's histograms of :math:`x` and :math:`y` against the Gibbs densities.

    The chains start from the Gibbs density at :math:`(T_x, T_y)` and run
    ``steps`` SGD steps (batch 1); every 10th state is pooled. If SGD's
    stationary law were different, the histograms would drift away from it
    within a few local relaxation times. Each panel also shows SGD's *exact*
    finite-:math:`\eta` stationary density (:func:`sgdsim.sgd_stationary_density`)
    and the Gibbs density of the *other* coordinate's temperature -- what a
    single Gibbs distribution of :math:`\mathcal L(x, y)` would need. (The exact law is
    left out when resolving the step noise would need a grid of more than 2500 points.)
    If SGD diverges, the panels say so instead.

    ``dpi`` sets the figure resolution (the explorer uses 80 for faster redraws).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from ..dynamics import DivergenceError, sgd

    eta, sigma_x, sigma_y = float(eta), float(sigma_x), float(sigma_y)
    px, py, prob = separable_factors(sigma_x, sigma_y)
    tx, ty = float(temperature(eta, sigma_x**2)), float(temperature(eta, sigma_y**2))
    gen = np.random.default_rng(rng)
    xlo, xhi = _range(px, max(tx, ty), -3.0, 3.0)
    ylo, yhi = _range(py, max(tx, ty), -4.0, 4.0)
    x0 = _gibbs_samples(px, np.linspace(xlo, xhi, 2001), tx, chains, gen)
    y0 = _gibbs_samples(py, np.linspace(ylo, yhi, 2001), ty, chains, gen)
    if axes is None:  # a fixed layout: constrained layout would double the drawing time
        # stacked panels, 6.4 in wide: readable when a phone scales the figure to its width
        fig, axes = plt.subplots(2, 1, figsize=(6.4, 7.4), layout="none", dpi=dpi)
        fig.subplots_adjust(left=0.12, right=0.97, bottom=0.15, top=0.955, hspace=0.42)
    else:
        fig = axes[0].figure
    try:
        traj = sgd(prob, np.c_[x0, y0], eta, steps, rng=gen, record_every=10)
    except DivergenceError:
        for ax in axes:
            ax.text(0.5, 0.5, "SGD diverged:\nlower η or σ", ha="center", va="center",
                    transform=ax.transAxes, color=PALETTE["vermillion"])
        return fig
    # All text is plain Unicode, no mathtext: every update draws a new figure, whose new
    # renderer misses matplotlib's mathtext cache, and parsing TeX was a third of the
    # rendering time of an update.
    panels = ((axes[0], px, tx, ty, traj.phi[1:, :, 0], (xlo, xhi), "x"),
              (axes[1], py, ty, tx, traj.phi[1:, :, 1], (ylo, yhi), "y"))
    for ax, p1, t_own, t_other, samples, (lo, hi), name in panels:
        grid = np.linspace(lo, hi, 400)
        dens, edges = np.histogram(samples.ravel(), bins=50, range=(lo, hi), density=True)
        ax.stairs(dens, edges, fill=True, color=PALETTE["skyblue"], alpha=0.6,
                  label="SGD histogram")
        ax.plot(grid, gibbs_density(p1.loss, grid, t_own), color=PALETTE["blue"],
                label="Gibbs at its own T = ησ²/2")
        step = eta * np.sqrt(float(np.atleast_2d(p1.noise_cov())[0, 0]))
        fine = np.linspace(lo, hi, max(400, int(np.ceil(2.5 * (hi - lo) / step)) + 1))
        if fine.size <= 2500:
            ax.plot(fine, sgd_stationary_density(p1, eta, fine), color=PALETTE["black"],
                    ls=":", label="SGD's exact law at this η")
        ax.plot(grid, gibbs_density(p1.loss, grid, t_other), color=PALETTE["vermillion"],
                ls="--", label="Gibbs at the other coordinate's T")
        right = name == "x"  # keep clear of the spike in the deep (left) well
        ax.text(0.98 if right else 0.02, 0.97, f"T = {t_own:.3g}\n(other: {t_other:.3g})",
                transform=ax.transAxes, va="top", ha="right" if right else "left", fontsize=9)
        ax.set_xlabel(name, fontstyle="italic")
        ax.set_ylabel(f"density p({name})")
        ax.set_xlim(lo, hi)
        ax.locator_params(nbins=4)  # fewer tick labels to lay out: a faster redraw
    # one legend under the panels, clear of the data (a panel may lack the exact law)
    entries = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(lab, h)
    order = sorted(entries, key=lambda lab: _LEGEND_ORDER.index(lab))
    fig.legend([entries[lab] for lab in order], order, loc="lower center", ncol=2, fontsize=9,
               frameon=False)
    ky = "" if KY == 2.0 else f"{KY / 2:g}"
    axes[0].set_title(f"loss in x: (x² − 1)² + {TILT:g}x")
    axes[1].set_title(f"loss in y: {ky}y²")
    return fig


def stationary_explorer(**defaults):
    """Sliders for :math:`\\eta`, :math:`\\sigma_x`, :math:`\\sigma_y` driving :func:`draw_stationary`."""
    v = dict(STATIONARY_DEFAULTS, **defaults)
    if static_build():  # a build executes this cell: a precomputed player, no widget
        return static_view(lambda: player(
            draw_stationary, v,
            {"eta": sorted({0.002, 0.005, 0.01, 0.02, 0.04} | {v["eta"]}),
             "sigma_x": sorted({4.0, 7.0, 10.0, 14.0, 20.0} | {v["sigma_x"]}),
             "sigma_y": sorted({2.0, 5.0, 10.0, 15.0, 20.0} | {v["sigma_y"]})},
            uid="langevin-explorer",
            labels={"eta": "η", "sigma_x": "σ_x", "sigma_y": "σ_y"},
            title="SGD's histograms of x and y against the Gibbs densities at their "
                  "temperatures"))
    import ipywidgets as w

    from . import explorer, show_figures

    def draw(eta, sigma_x, sigma_y):
        show_figures(draw_stationary(eta, sigma_x, sigma_y))

    return explorer(
        draw,
        eta=w.FloatLogSlider(value=v["eta"], base=10, min=-2.7, max=-1.3, step=0.05,
                             description="η (learning rate)", readout_format=".4f"),
        sigma_x=w.FloatSlider(value=v["sigma_x"], min=2.0, max=20.0, step=0.5,
                              description="σ_x (noise std of x)"),
        sigma_y=w.FloatSlider(value=v["sigma_y"], min=2.0, max=20.0, step=0.5,
                              description="σ_y (noise std of y)"),
    )


# ----------------------------------------------------------------------- animation
def deterministic_ids(html: str, name: str) -> str:
    """Replace the random element id in matplotlib's JS-player HTML by one derived from ``name``."""
    ids = set(re.findall(r"_anim_img([0-9a-f]{32})", html))
    fixed = hashlib.sha1(name.encode()).hexdigest()[:32]
    for old in ids:
        html = html.replace(old, fixed)
    return html


def fokker_planck_animation(fp, times, densities, samples, *, cells_per_bin, gibbs=None,
                            name="fokker-planck", dpi=80, fps=5):
    r"""An HTML animation: the SGD histogram following the Fokker--Planck density.

    Parameters
    ----------
    fp : FokkerPlanck1D
    times : array_like, shape (k,)
        Frame times (k <= 60).
    densities : array_like, shape (k, m)
        ``fp.evolve(p0, times)``.
    samples : array_like, shape (k, chains)
        SGD states at the same times.
    cells_per_bin : int
        Histogram bins are groups of this many FP cells, so both show the same masses.
    gibbs : array_like, shape (m,), optional
        The stationary density to draw dashed (default ``fp.stationary()``).
    name : str
        Seeds the (deterministic) element ids; use a different name per animation.

    Returns
    -------
    str
        Self-contained HTML (frames embedded as PNG); display with ``IPython.display.HTML``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    times = np.asarray(times, dtype=float)
    densities = np.asarray(densities, dtype=float)
    samples = np.asarray(samples, dtype=float)
    if times.size > 60:
        raise ValueError(f"{times.size} frames: keep an animation to at most 60 frames")
    if densities.shape[0] != times.size or samples.shape[0] != times.size:
        raise ValueError("densities and samples need one row per frame time")
    edges = fp.edges[::cells_per_bin]
    gibbs = fp.stationary() if gibbs is None else np.asarray(gibbs, dtype=float)
    top = 1.1 * max(np.max(densities[1:]) if times.size > 1 else 0.0, gibbs.max())

    # A fixed layout: constrained layout would be recomputed for every frame.
    fig, ax = plt.subplots(figsize=(6.0, 3.4), dpi=dpi, layout="none")
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.15, top=0.9)
    counts = np.histogram(samples[0], bins=edges)[0]
    width = np.diff(edges)
    bars = ax.bar(edges[:-1], counts / (counts.sum() * width), width=width, align="edge",
                  color=PALETTE["skyblue"], alpha=0.7, label="SGD histogram")
    (line,) = ax.plot(fp.centers, densities[0], color=PALETTE["blue"], lw=2.5,
                      label="Fokker–Planck $p(x, t)$")
    ax.plot(fp.centers, gibbs, color=PALETTE["black"], ls="--", lw=1.5,
            label=r"Gibbs $e^{-\mathcal{L}/T}/Z$")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, top)
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    title = ax.set_title("")
    ax.legend(loc="upper left", fontsize=9)

    def frame(k):
        c = np.histogram(samples[k], bins=edges)[0]
        for b, h in zip(bars, c / (c.sum() * width)):
            b.set_height(h)
        line.set_ydata(densities[k])
        title.set_text(f"t = {times[k]:.2f}")
        return (*bars, line, title)

    anim = FuncAnimation(fig, frame, frames=times.size, interval=1000 / fps, blit=False)
    # The frames are saved at savefig.dpi (200 in the book style): pin it to ``dpi``.
    with plt.rc_context({"savefig.dpi": dpi}):
        html = anim.to_jshtml(fps=fps, default_mode="once")
    plt.close(fig)
    return deterministic_ids(html, name)


#: The explorer, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``):
#: one update is :func:`draw_stationary` at the explorer's resolution.
EXPLORERS = {
    "stationary": (
        lambda eta, sigma_x, sigma_y: draw_stationary(eta, sigma_x, sigma_y),
        dict(STATIONARY_DEFAULTS),
        [{"eta": float(e), "sigma_x": float(sx), "sigma_y": float(sy)}
         for e, sx, sy in zip(np.geomspace(10**-2.7, 10**-1.3, 20), np.linspace(2.0, 20.0, 20),
                              np.linspace(20.0, 2.0, 20))],
    ),
}
