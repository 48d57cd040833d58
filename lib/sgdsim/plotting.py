"""The book's figure style (colour-blind-safe, readable on a phone) and small drawing helpers."""

from __future__ import annotations

import numpy as np

from ._validation import sym_sqrt

__all__ = ["PALETTE", "use_book_style", "loss_contours", "unicode_log_ticks"]

#: Okabe & Ito (2008) colour-blind-safe palette, in the order used for lines.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "skyblue": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}

_RC = {
    "axes.prop_cycle": None,  # filled below
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 13,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.framealpha": 0.9,
    "lines.linewidth": 2.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.constrained_layout.use": True,
    "svg.hashsalt": "sgdsim",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style; in IPython also request high-DPI PNG output."""
    import matplotlib as mpl
    from cycler import cycler

    rc = dict(_RC)
    rc["axes.prop_cycle"] = cycler(color=[PALETTE[k] for k in
                                          ("blue", "orange", "green", "vermillion",
                                           "skyblue", "purple", "black")])
    mpl.rcParams.update(rc)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing more to do
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def loss_contours(ax, problem, xlim, ylim, *, levels=12, n=200, **kwargs):
    """Draw contour lines of a 2-D problem's loss on ``ax``; returns the contour set."""
    if problem.dim != 2:
        raise ValueError(f"loss_contours needs a 2-D problem, got dim={problem.dim}")
    xs = np.linspace(*xlim, n)
    ys = np.linspace(*ylim, n)
    xx, yy = np.meshgrid(xs, ys)
    zz = problem.loss(np.stack([xx, yy], axis=-1))
    kwargs.setdefault("colors", "0.6")
    kwargs.setdefault("linewidths", 0.8)
    return ax.contour(xx, yy, zz, levels=levels, **kwargs)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def unicode_log_ticks(axis) -> None:
    """Label the decades of a log ``axis`` (``ax.xaxis``/``ax.yaxis``) as Unicode text, 10⁻³.

    Mathtext labels (``$10^{-3}$``) cost milliseconds each in figures redrawn at every slider
    update; minor ticks get no labels.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    def label(value, _pos):
        if value <= 0:
            return ""
        k = int(round(np.log10(value)))
        if not np.isclose(value, 10.0**k, rtol=1e-9):
            return ""
        return "10" + str(k).translate(_SUPERSCRIPT)

    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_formatter(NullFormatter())


def ellipse(cov, center=(0.0, 0.0), k=2.0, n=200) -> np.ndarray:
    r"""Points ``(n, 2)`` on the ellipse :math:`\{c + k\,C^{1/2}u : \|u\| = 1\}` of a 2-D
    covariance ``cov`` (a matrix or its diagonal)."""
    cov = np.asarray(cov, dtype=float)
    if cov.ndim == 1:
        cov = np.diag(cov)
    a = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(a), np.sin(a)], axis=-1)
    return np.asarray(center, dtype=float) + k * circle @ sym_sqrt(cov)
