"""The chapters' ipywidgets explorers.

Each chapter's explorers (and the drawing functions that its static figures
share with them) live in a submodule named after the chapter, e.g.
``sgdsim.widgets.gradient_flow``; this module holds what they share.

An explorer is a function ``draw(**values)`` that simulates and draws one
figure, plus the controls that feed it. :func:`explorer` wires them up with
``continuous_update=False`` so that a slider redraws once on release, and the
chapter keeps a static figure of the default state for the website.

Registering explorers (the ``EXPLORERS`` convention)
----------------------------------------------------
So that tools can find every explorer without knowing the chapters -- ``make bench``
times one update of each (target: under 150 ms), and a unit test draws each once --
every chapter submodule that has explorers declares them in a module-level dict::

    # lib/sgdsim/widgets/langevin.py
    EXPLORERS = {
        "double_well": (                       # name, unique within the module
            draw_double_well,                  # draw(**values): simulate + draw one figure
            dict(lr=0.05, noise_var=1.0, rng=0),       # defaults = the static figure
            [dict(lr=v) for v in np.linspace(0.01, 0.2, 20)],  # 20 slider positions
        ),
    }

* ``draw(**{**defaults, **values})`` must do exactly what one slider update does
  (simulate and draw; it may return the figure or leave it current, and the caller
  renders it with :func:`render_png`, as :func:`show_figures` does in the widget; or it
  returns the PNG bytes it displays when it renders by itself) and must be deterministic
  (take the seed, ``rng``, among the values);
* ``defaults`` holds every keyword of ``draw`` that a control sets (its initial values);
* ``sweep`` is a list of (ideally 20) dicts of slider values spread over the sliders'
  ranges, each overriding some of the defaults; its keys must be keys of ``defaults``.

An :class:`ExplorerSpec` (a named tuple of the same three fields) may be used instead of
the plain tuple. :func:`iter_explorers` finds them all: it imports every public submodule
of :mod:`sgdsim.widgets` and collects its ``EXPLORERS`` as ``"<module>.<name>"``.
"""

from __future__ import annotations

import functools
import os

import importlib
import pkgutil
from typing import Any, Callable, NamedTuple

__all__ = ["explorer", "ExplorerSpec", "iter_explorers", "figures_drawn", "render_png",
           "show_figures", "rendered_update", "EXPLORER_DPI", "static_build", "static_view",
           "StaticExplorer", "Player", "player"]

#: Resolution of an explorer's picture: 1.5 pixels per CSS pixel of a 100-dpi figure.
#: The static figures are rendered at 200 dpi (retina); an explorer redraws at every
#: slider release, and 150 dpi keeps that near 100 ms while staying sharp enough on a
#: high-density screen.
EXPLORER_DPI = 150


class ExplorerSpec(NamedTuple):
    """One registered explorer: its draw function, default values and slider sweep."""

    draw: Callable[..., Any]
    defaults: dict
    sweep: list


def _as_spec(where: str, entry) -> ExplorerSpec:
    if isinstance(entry, dict):
        try:
            entry = (entry["draw"], entry["defaults"], entry["sweep"])
        except KeyError as exc:
            raise ValueError(f"{where}: a dict entry needs keys draw, defaults, sweep") from exc
    if not (isinstance(entry, tuple) and len(entry) == 3):
        raise TypeError(f"{where}: expected (draw, defaults, sweep), got {type(entry).__name__}")
    draw, defaults, sweep = entry
    if not callable(draw):
        raise TypeError(f"{where}: draw must be callable, got {type(draw).__name__}")
    if not (isinstance(defaults, dict) and all(isinstance(k, str) for k in defaults)):
        raise TypeError(f"{where}: defaults must be a dict of keyword values")
    sweep = list(sweep)
    if not sweep:
        raise ValueError(f"{where}: sweep is empty; give the slider values to try (ideally 20)")
    for i, values in enumerate(sweep):
        if not isinstance(values, dict):
            raise TypeError(f"{where}: sweep[{i}] must be a dict of slider values")
        unknown = set(values) - set(defaults)
        if unknown:
            raise ValueError(f"{where}: sweep[{i}] sets {sorted(unknown)}, which are not in "
                             "defaults (every slider needs a default value)")
    return ExplorerSpec(draw, dict(defaults), sweep)


def figures_drawn(returned=None) -> list:
    """The figures an explorer update drew: open pyplot figures, plus a returned one.

    ``returned`` is what ``draw`` returned: a :class:`matplotlib.figure.Figure`, a tuple
    starting with one (``fig, ax``), or anything else (ignored).
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    figs = [plt.figure(n) for n in plt.get_fignums()]
    if isinstance(returned, tuple) and returned:
        returned = returned[0]
    if isinstance(returned, Figure) and returned not in figs:
        figs.append(returned)
    return figs


def render_png(fig, *, dpi: float = EXPLORER_DPI) -> bytes:
    """Render ``fig`` to PNG bytes as an explorer shows it.

    One Agg pass at ``dpi`` with the figure's own layout -- no ``bbox_inches="tight"``,
    which costs the inline backend a second full draw -- and zlib level 1, whose
    files are a little larger but several times faster to write than the default 6.
    """
    import io

    from matplotlib.transforms import Bbox

    buf = io.BytesIO()
    width, height = fig.get_size_inches()
    # An explicit full-figure box, so that an rcParams["savefig.bbox"] = "tight"
    # cannot bring the second pass back.
    fig.savefig(buf, format="png", dpi=dpi,
                bbox_inches=Bbox.from_bounds(0, 0, width, height),
                pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def show_figures(returned=None, *, dpi: float = EXPLORER_DPI) -> None:
    """Display the figures an explorer update drew (:func:`render_png`), then close them.

    Each is shown at its size at 100 dpi (CSS pixels), so a figure looks the same size
    as the book's static figures whatever ``dpi`` it was rendered at.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    for fig in figures_drawn(returned):
        width = int(round(fig.get_size_inches()[0] * 100))
        display(Image(data=render_png(fig, dpi=dpi), format="png", width=width))
        plt.close(fig)


def rendered_update(returned=None, *, dpi: float = EXPLORER_DPI) -> list[bytes]:
    """The PNG images one explorer update shows, from what its ``draw`` returned.

    PNG bytes (an explorer that renders by itself) are taken as they are; otherwise
    every figure drawn (:func:`figures_drawn`) is rendered with :func:`render_png`, as
    :func:`show_figures` renders it in the widget, and closed.
    """
    import matplotlib.pyplot as plt

    if isinstance(returned, (bytes, bytearray)):
        return [bytes(returned)]
    images = []
    for fig in figures_drawn(returned):
        images.append(render_png(fig, dpi=dpi))
        plt.close(fig)
    return images


def iter_explorers(package=None) -> list[tuple[str, ExplorerSpec]]:
    """Find every registered explorer (see the module notes).

    Parameters
    ----------
    package : module, optional
        The package to search (default: :mod:`sgdsim.widgets`).

    Returns
    -------
    list of (str, ExplorerSpec)
        ``("<module>.<name>", spec)``, sorted by module then in ``EXPLORERS`` order.

    Raises
    ------
    TypeError, ValueError
        If an ``EXPLORERS`` entry does not follow the convention.
    """
    if package is None:
        package = importlib.import_module(__name__)
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        registry = getattr(module, "EXPLORERS", None)
        if registry is None:
            continue
        if not isinstance(registry, dict):
            raise TypeError(f"{module.__name__}.EXPLORERS must be a dict name -> "
                            "(draw, defaults, sweep)")
        for name, entry in registry.items():
            where = f"{module.__name__}.EXPLORERS[{name!r}]"
            found.append((f"{info.name}.{name}", _as_spec(where, entry)))
    return found


#: Set by ``make book`` and ``make outputs`` (to ``1``) and by ``make bench`` (to ``note``): an
#: explorer then creates no widget (no comm is opened, so nbclient cannot stall on one). With
#: ``1`` it shows a kernel-free :class:`Player` of precomputed frames where it has one; with
#: ``note`` (or without a player) a short note; the static figure before it shows its
#: default state.
STATIC_ENV = "SGDSIM_STATIC_BUILD"


def static_build() -> bool:
    """Whether explorers must not create widgets (see :data:`STATIC_ENV`)."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def static_view(make_player=None):
    """What an explorer cell shows in a build: ``make_player()``'s player, or a note."""
    if make_player is None or os.environ.get(STATIC_ENV, "") == "note":
        return StaticExplorer()
    return make_player()


class StaticExplorer:
    """What an explorer cell shows when executed by a build: a note, no widget, no drawing."""

    def __repr__(self) -> str:
        return EXPLORER_TEXT

    def _repr_html_(self) -> str:
        return (f'<p class="sgdsim-explorer-static" data-sgdsim-explorer="1">'
                f"{EXPLORER_TEXT}</p>")


def explorer(draw, **controls):
    """Return an ipywidgets ``interactive`` widget that calls ``draw(**values)``.

    In a build (:func:`static_build`) it returns a :class:`StaticExplorer` instead and does
    not draw.

    Parameters
    ----------
    draw : callable
        Simulates and draws a matplotlib figure from keyword values.
    **controls
        ipywidgets controls (sliders, dropdowns) or fixed values, by keyword.
    """
    if static_build():
        return StaticExplorer()
    import ipywidgets as w

    for c in controls.values():
        if hasattr(c, "continuous_update"):
            c.continuous_update = False
        if hasattr(c, "style"):
            try:
                c.style.description_width = "initial"
            except AttributeError:
                pass
        if hasattr(c, "layout"):  # room for the label *and* a track a mouse can use
            c.layout.width = "100%"
            c.layout.max_width = "34em"
    return _explorer_class()(draw, **controls)


#: The text a stored explorer output shows where no widget front end renders it.
EXPLORER_TEXT = "Interactive explorer: run the notebook in Jupyter to move its controls."


@functools.cache
def _explorer_class():
    """``ipywidgets.interactive`` with a short text form (not a 200-character widget repr)."""
    import ipywidgets as w

    class Explorer(w.interactive):
        def __repr__(self):
            return EXPLORER_TEXT

    return Explorer


from ._player import Player, player  # noqa: E402  (uses rendered_update above)
