"""The chapters' ipywidgets explorers.

Each chapter's explorers (and the drawing functions that its static figures
share with them) live in a submodule named after the chapter, e.g.
``sgdsim.widgets.gradient_flow``; this module holds what they share.

An explorer is a function ``draw(**values)`` that simulates and draws one
figure, plus the controls that feed it. :func:`explorer` wires them up with
``continuous_update=False`` so that a slider redraws once on release, and the
chapter keeps a static figure of the default state for the website.
"""

from __future__ import annotations

__all__ = ["explorer"]


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
