"""The chapters' explorers (one submodule per chapter) and what they share.

An explorer (:func:`explorer`) is ipywidgets controls over a picture ``draw(**values)``, drawn
by a :class:`LiveFigure`: what no control changes is rendered once, an update draws only the
rest over it. The chapter's static figure is the same drawing; a build shows a kernel-free
:class:`Player`. Chapter modules register their explorers for ``make bench`` (target: 100 ms
an update) and the tests as ``EXPLORERS = {"name": (draw, defaults, sweep)}``:
``draw(**{**defaults, **values})`` does one update, deterministically (the seed is a value),
and returns PNG bytes or draws figures; ``sweep`` lists (ideally 20) dicts of control values.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import struct
import zlib
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = ["explorer", "ExplorerSpec", "iter_explorers", "encode_png", "render_png",
           "rendered_update", "EXPLORER_DPI", "LiveFigure", "live", "lazily", "static_build",
           "static_view", "StaticExplorer", "Player", "player"]

#: Resolution of an explorer's picture: figures are sized at 100 dpi (CSS pixels) and
#: rendered at 1.2x (sharp on a projector, legible when a phone scales a figure down).
EXPLORER_DPI = 120


class ExplorerSpec(NamedTuple):
    """One registered explorer."""

    draw: Callable[..., Any]
    defaults: dict
    sweep: list


def _as_spec(where: str, entry) -> ExplorerSpec:
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


def iter_explorers(package=None) -> list[tuple[str, ExplorerSpec]]:
    """``("<module>.<name>", spec)`` of every explorer registered in ``package``'s modules
    (default :mod:`sgdsim.widgets`); TypeError or ValueError for a malformed entry."""
    package = package or importlib.import_module(__name__)
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        registry = getattr(module, "EXPLORERS", {})
        if not isinstance(registry, dict):
            raise TypeError(f"{module.__name__}.EXPLORERS must be a dict name -> "
                            "(draw, defaults, sweep)")
        for name, entry in registry.items():
            where = f"{module.__name__}.EXPLORERS[{name!r}]"
            found.append((f"{info.name}.{name}", _as_spec(where, entry)))
    return found


def encode_png(rgba) -> bytes:
    """An RGB PNG of an ``(h, w, 4)`` uint8 image: no row filter, zlib level 1 (plots are
    flat colour: as small as with Pillow's adaptive filters, and twice as fast to write)."""
    h, w = rgba.shape[:2]
    raw = np.zeros((h, 3 * w + 1), np.uint8)  # each row: filter byte 0, then R, G, B
    raw[:, 1:] = np.asarray(rgba)[:, :, :3].reshape(h, 3 * w)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 1)) + chunk(b"IEND", b""))


def render_png(fig, *, dpi: float = EXPLORER_DPI) -> bytes:
    """Render ``fig`` to PNG bytes in one Agg pass at ``dpi``, with its own layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return encode_png(canvas.buffer_rgba())


def rendered_update(returned=None, *, dpi: float = EXPLORER_DPI) -> list[bytes]:
    """The PNG images of one update: the PNG bytes ``draw`` returned, or every open pyplot
    figure and a returned one, rendered with :func:`render_png` and closed."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if isinstance(returned, (bytes, bytearray)):
        return [bytes(returned)]
    figs = [plt.figure(n) for n in plt.get_fignums()]
    if isinstance(returned, Figure) and returned not in figs:
        figs.append(returned)
    images = [render_png(fig, dpi=dpi) for fig in figs]
    for fig in figs:
        plt.close(fig)
    return images


class LiveFigure:
    """A figure drawn once and then updated in place (the blitting of matplotlib animations).

    A subclass draws in :meth:`setup` what no control changes and in :meth:`draw(**values)
    <draw>` the rest, as new artists that it returns (the previous ones are removed).
    :attr:`redrawn` lists existing artists that change too (a title, an axis whose limits
    move); :attr:`key`, set by :meth:`draw`, names the state of everything else (default
    ``None``: one state). :meth:`png` renders that background once per key and then draws
    only the changing artists over it. Without ``fig``, the figure is a pyplot one.
    """

    figsize = (6.4, 8.0)

    def __init__(self, fig=None, **setup):
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=self.figsize, layout="none")
        self.fig, self.redrawn, self.key, self._drawn, self._backgrounds = fig, [], None, [], {}
        self.setup(**setup)

    def update(self, **values) -> "LiveFigure":
        """Replace the changing artists by those of ``values``."""
        for artist in self._drawn:
            artist.remove()
        self._drawn = list(self.draw(**values))
        return self

    def png(self, dpi: float = EXPLORER_DPI) -> bytes:
        """The current picture as PNG bytes, over the background cached for :attr:`key`."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        changing = sorted(self.redrawn + self._drawn, key=lambda a: a.get_zorder())
        for artist in changing:
            artist.set_animated(True)
        if self.fig.dpi != dpi or not isinstance(self.fig.canvas, FigureCanvasAgg):
            self.fig.set_dpi(dpi)
            FigureCanvasAgg(self.fig)
            self._backgrounds.clear()
        canvas = self.fig.canvas
        if self.key not in self._backgrounds:
            canvas.draw()  # everything but the animated artists
            self._backgrounds[self.key] = canvas.copy_from_bbox(self.fig.bbox)
        canvas.restore_region(self._backgrounds[self.key])
        for artist in changing:
            self.fig.draw_artist(artist)
        return encode_png(canvas.buffer_rgba())


def lazily(make_draw):
    """``draw(**values)`` that calls ``make_draw()`` on first use (its setup may be costly)."""
    made = []

    def draw(**values):
        if not made:
            made.append(make_draw())
        return made[0](**values)

    return draw


def live(cls, dpi: float = EXPLORER_DPI, **setup):
    """``draw(**values)`` -> PNG bytes: one ``cls(**setup)`` outside pyplot, updated in place."""
    from matplotlib.figure import Figure

    def make():
        figure = cls(Figure(figsize=cls.figsize, layout="none"), **setup)
        return lambda **values: figure.update(**values).png(dpi)

    return lazily(make)


#: Set to ``1`` by ``make book`` and ``make outputs`` (an explorer shows a :class:`Player`),
#: to ``note`` by ``make bench`` (a note): no widget, so no comm for nbclient to stall on.
STATIC_ENV = "SGDSIM_STATIC_BUILD"

#: The text a stored explorer output shows where no widget front end renders it.
EXPLORER_TEXT = "Interactive explorer: run the notebook in Jupyter to move its controls."


def static_build() -> bool:
    """Whether explorers must not create widgets (see :data:`STATIC_ENV`)."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def static_view(make_player):
    """What an explorer cell shows in a build: ``make_player()``'s player, or a note."""
    return StaticExplorer() if os.environ.get(STATIC_ENV, "") == "note" else make_player()


class StaticExplorer:
    """What an explorer cell shows when executed by a build: a note, no widget, no drawing."""

    def __repr__(self) -> str:
        return EXPLORER_TEXT

    def _repr_html_(self) -> str:
        return f'<p class="sgdsim-explorer-static" data-sgdsim-explorer="1">{EXPLORER_TEXT}</p>'


def explorer(make_draw, defaults: dict, controls: dict, *, title: str, uid: str,
             player_dpi: float | None = None):
    """An explorer: ipywidgets controls over the picture ``make_draw(dpi)(**values)``.

    ``make_draw(dpi)`` returns the explorer's ``draw`` (PNG bytes at ``dpi``, e.g. from
    :func:`live`); ``defaults`` holds all its keywords. ``controls`` maps some of them to
    ``(label, widget, options, positions)``: an ipywidgets class name and its keyword
    arguments, and the positions a kernel-free :class:`Player` precomputes in a build
    (:func:`static_build`, at ``player_dpi``; ``None``: the widget's ``options``). The
    picture is shown at 100 dpi (the book's size); sliders redraw on release.
    """
    if static_build():  # a build executes the cell: a precomputed player, or a note
        positions = {}
        for name, (_, _, options, pos) in controls.items():
            pos = list(options["options"] if pos is None else pos)
            positions[name] = pos if defaults[name] in pos else sorted([*pos, defaults[name]])
        return static_view(lambda: player(
            make_draw(player_dpi or _PLAYER_DPI), defaults, positions, title=title, uid=uid,
            labels={name: c[0] for name, c in controls.items()}))
    import ipywidgets as w
    from IPython.display import Image, display

    draw = make_draw(EXPLORER_DPI)

    class Explorer(w.interactive):
        def __repr__(self):  # not a 200-character widget repr
            return EXPLORER_TEXT

    def show(**values):
        for png in rendered_update(draw(**{**defaults, **values})):
            width = struct.unpack(">I", png[16:20])[0]  # the PNG header's width in pixels
            display(Image(data=png, format="png", width=round(width * 100 / EXPLORER_DPI)))

    widgets = {}
    for name, (label, widget, options, _) in controls.items():
        widgets[name] = c = getattr(w, widget)(
            value=defaults[name], description=label, style={"description_width": "initial"},
            layout={"width": "100%", "max_width": "34em"}, **options)
        if hasattr(c, "continuous_update"):
            c.continuous_update = False
    return Explorer(show, **widgets)


from ._player import PLAYER_DPI as _PLAYER_DPI, Player, player  # noqa: E402
