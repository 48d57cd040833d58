"""Kernel-free players: an explorer's precomputed frames behind native HTML controls.

A static page has no kernel: a :class:`Player` shows frames computed with one control moved
at a time (the others at their defaults) behind ``<input type="range">`` and ``<select>``
controls that swap the visible frame. No script from another host; keyboard-accessible;
palette PNGs with alt text; without JavaScript, the default frame still shows.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field

__all__ = ["Player", "player", "PLAYER_DPI"]

#: Frame resolution: 100 dpi figures (the book's CSS size) rendered at 1.25x.
PLAYER_DPI = 125

_SCRIPT = (
    "<script>(function(){var root=document.getElementById(%s);var m=%s;"
    "var ctl=root.querySelectorAll('[data-control]');"
    "function show(k){var i=parseInt(ctl[k].value,10);"
    "ctl.forEach(function(o,j){if(j!==k){o.value=m.defaults[j];}"
    "var v=m.labels[j][parseInt(o.value,10)];"
    "o.parentNode.querySelector('output').textContent=v;"
    "if(o.type==='range'){o.setAttribute('aria-valuetext',v);}});"
    "var id=(i===m.defaults[k])?'default':(k+'-'+i);"
    "root.querySelectorAll('img[data-frame]').forEach(function(im){"
    "im.hidden=(im.getAttribute('data-frame')!==id);});}"
    "ctl.forEach(function(o,k){o.addEventListener('input',function(){show(k);});"
    "o.addEventListener('change',function(){show(k);});});})();</script>")

#: Not a bare ``hidden``: JupyterLab's sanitizer (untrusted notebooks) drops attributes with an
#: empty value, and then every frame would show at once.
HIDDEN = ' hidden="hidden"'


def _label(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@dataclass
class Player:
    """Precomputed frames of an explorer and its controls (displays as HTML).

    ``controls`` maps each control to its positions, ``labels`` to its display name,
    ``defaults`` to its default position (an index); ``frames[(c, i)]`` is the PNG with
    control ``c`` at position ``i`` and the others at their defaults.
    """

    title: str
    controls: dict
    labels: dict
    defaults: dict
    frames: dict = field(repr=False)
    uid: str = "player"

    def _frame_id(self, c, i) -> str:
        return "default" if i == self.defaults[c] else f"{list(self.controls).index(c)}-{i}"

    def _repr_html_(self) -> str:
        e, uid, images, rows = html.escape, html.escape(self.uid), {}, []
        for k, (c, values) in enumerate(self.controls.items()):
            state = ", ".join(f"{self.labels[o]} = {_label(self.controls[o][self.defaults[o]])}"
                              for o in self.controls if o != c)
            for i, v in enumerate(values):
                alt = f"{self.title}: {self.labels[c]} = {_label(v)}" + (
                    f" ({state})" if state else "")
                data = base64.b64encode(self.frames[(c, i)]).decode()
                fid = self._frame_id(c, i)
                images.setdefault(fid, f'<img data-frame="{fid}" src="data:image/png;base64,'
                                       f'{data}" alt="{e(alt)}" style="max-width:100%;height:auto"'
                                       f'{"" if fid == "default" else HIDDEN}>')
            cid, d = f"{uid}-c{k}", self.defaults[c]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                ctl = (f'<input type="range" id="{cid}" data-control="{k}" min="0" '
                       f'max="{len(values) - 1}" step="1" value="{d}" '
                       f'aria-valuetext="{e(_label(values[d]))}">')
            else:
                opts = "".join(f'<option value="{i}"{" selected" if i == d else ""}>'
                               f"{e(_label(v))}</option>" for i, v in enumerate(values))
                ctl = f'<select id="{cid}" data-control="{k}">{opts}</select>'
            rows.append(f'<div class="sgdsim-player-control"><label for="{cid}">'
                        f"{e(self.labels[c])}</label>{ctl}"
                        f'<output for="{cid}">{e(_label(values[d]))}</output></div>')
        meta = {"defaults": [self.defaults[c] for c in self.controls],
                "labels": [[_label(v) for v in vals] for vals in self.controls.values()]}
        return (f'<div class="sgdsim-player" id="{uid}" role="group" aria-label="{e(self.title)}">'
                f'<div class="sgdsim-player-controls">{"".join(rows)}</div>'
                '<p class="sgdsim-player-note">Precomputed explorer: move one control at a time '
                "(the others return to their defaults). Run the notebook for the live version.</p>"
                f'<div class="sgdsim-player-frames">{"".join(images.values())}</div>'
                + _SCRIPT % (json.dumps(self.uid), json.dumps(meta)) + "</div>")

    def __repr__(self) -> str:
        text = f"Explorer (precomputed, {self.frame_count()} frames): {self.title}"
        return text if len(text) <= 100 else text[:99] + "…"

    def frame_count(self) -> int:
        return len({self._frame_id(c, i) for c, v in self.controls.items() for i in range(len(v))})


def player(draw, defaults: dict, controls: dict, *, title: str, labels: dict | None = None,
           uid: str = "player", dpi: float = PLAYER_DPI, colors: int = 128) -> Player:
    """Precompute an explorer's frames, one control at a time, as palette PNGs of ``colors``.

    ``draw(**values)`` is as registered in ``EXPLORERS`` (PNG bytes, or figures rendered at
    ``dpi``); ``defaults`` holds every keyword it takes, a control's default being one of
    its ``controls`` positions (numbers become a range input, anything else a select).
    ``title`` is the frames' alt text, ``labels`` the controls' display names (default:
    their keywords), ``uid`` the player's HTML id (unique on its page).
    """
    from PIL import Image

    from . import rendered_update

    controls = {c: list(v) for c, v in controls.items()}
    for c, values in controls.items():
        if c not in defaults:
            raise ValueError(f"control {c!r} has no default value")
        if defaults[c] not in values:
            raise ValueError(f"the default {c} = {defaults[c]!r} is not one of its positions")
    index = {c: controls[c].index(defaults[c]) for c in controls}
    frames, made = {}, {}
    for c, values in controls.items():
        for i, v in enumerate(values):
            key = "default" if i == index[c] else (c, i)
            if key not in made:
                png = rendered_update(draw(**{**defaults, c: v}), dpi=dpi)
                if len(png) != 1:
                    raise ValueError(f"an explorer frame must be one picture, got {len(png)}")
                out = io.BytesIO()
                Image.open(io.BytesIO(png[0])).convert("RGB").quantize(
                    colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
                ).save(out, format="PNG", optimize=True)
                made[key] = out.getvalue()
            frames[(c, i)] = made[key]
    return Player(title=title, controls=controls, labels={c: (labels or {}).get(c, c)
                                                          for c in controls},
                  defaults=index, frames=frames, uid=uid)
