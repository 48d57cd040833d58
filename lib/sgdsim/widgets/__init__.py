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
            dict(lr=0.05, noise_var=1.0, seed=0),       # defaults = the static figure
            [dict(lr=v) for v in np.linspace(0.01, 0.2, 20)],  # 20 slider positions
        ),
    }

* ``draw(**{**defaults, **values})`` must do exactly what one slider update does
  (simulate and draw; it may return the figure or leave it current) and must be
  deterministic (take the seed among the values);
* ``defaults`` holds every keyword of ``draw`` that a control sets (its initial values);
* ``sweep`` is a list of (ideally 20) dicts of slider values spread over the sliders'
  ranges, each overriding some of the defaults; its keys must be keys of ``defaults``.

An :class:`ExplorerSpec` (a named tuple of the same three fields) may be used instead of
the plain tuple. :func:`iter_explorers` finds them all: it imports every public submodule
of :mod:`sgdsim.widgets` and collects its ``EXPLORERS`` as ``"<module>.<name>"``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable, NamedTuple

__all__ = ["explorer", "ExplorerSpec", "iter_explorers", "figures_drawn"]


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


def explorer(draw, **controls):
    """Return an ipywidgets ``interactive`` widget that calls ``draw(**values)``.

    Parameters
    ----------
    draw : callable
        Simulates and draws a matplotlib figure from keyword values.
    **controls
        ipywidgets controls (sliders, dropdowns) or fixed values, by keyword.
    """
    import ipywidgets as w

    for c in controls.values():
        if hasattr(c, "continuous_update"):
            c.continuous_update = False
        if hasattr(c, "style"):
            try:
                c.style.description_width = "initial"
            except AttributeError:
                pass
    return w.interactive(draw, **controls)
