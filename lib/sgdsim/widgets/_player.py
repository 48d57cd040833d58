r"""Kernel-free players: an explorer's precomputed frames behind native HTML controls.

A static page has no kernel, so a :class:`Player` precomputes an explorer's pictures, each
control moved over its positions while the others stay at their defaults, and shows them
behind ``<input type="range">`` and ``<select>`` controls that swap the visible frame: no
kernel, no script from another host, keyboard-accessible, each control labelled with its
value. Frames are palette PNGs (small pages), each with alt text; where the notebook's
JavaScript does not run, the default frame still shows.
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


def _compress(png: bytes, colors: int = 128) -> bytes:
    """The PNG with an adaptive palette of ``colors`` colours (line plots need few)."""
    from PIL import Image

    im = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True)
    return out.getvalue()


def _label(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


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
        if i == self.defaults[c]:
            return "default"
        return f"{list(self.controls).index(c)}-{i}"

    def _repr_html_(self) -> str:
        e = html.escape
        uid = e(self.uid)
        images, seen = [], set()
        for c, values in self.controls.items():
            for i, v in enumerate(values):
                fid = self._frame_id(c, i)
                if fid in seen:
                    continue
                seen.add(fid)
                data = base64.b64encode(self.frames[(c, i)]).decode()
                state = (", ".join(f"{self.labels[k]} = {_label(self.controls[k][self.defaults[k]])}"
                                   for k in self.controls if k != c))
                alt = f"{self.title}: {self.labels[c]} = {_label(v)}" + (f" ({state})" if state else "")
                hidden = "" if fid == "default" else " hidden"
                images.append(f'<img data-frame="{fid}" src="data:image/png;base64,{data}" '
                              f'alt="{e(alt)}" style="max-width:100%;height:auto"{hidden}>')
        rows = []
        for k, (c, values) in enumerate(self.controls.items()):
            cid = f"{uid}-c{k}"
            d = self.defaults[c]
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
        script = (
            "<script>(function(){"
            f"var root=document.getElementById({json.dumps(self.uid)});"
            f"var m={json.dumps(meta)};"
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
            "o.addEventListener('change',function(){show(k);});});"
            "})();</script>")
        return (f'<div class="sgdsim-player" id="{uid}" role="group" '
                f'aria-label="{e(self.title)}">'
                f'<div class="sgdsim-player-controls">{"".join(rows)}</div>'
                f'<p class="sgdsim-player-note">Precomputed explorer: move one control at a '
                f"time (the others return to their defaults). Run the notebook for the live "
                f"version.</p>"
                f'<div class="sgdsim-player-frames">{"".join(images)}</div>{script}</div>')

    def __repr__(self) -> str:
        text = f"Explorer (precomputed, {self.frame_count()} frames): {self.title}"
        return text if len(text) <= 100 else text[:99] + "…"

    def frame_count(self) -> int:
        return len({self._frame_id(c, i) for c in self.controls
                    for i in range(len(self.controls[c]))})


def player(draw, defaults: dict, controls: dict, *, title: str, labels: dict | None = None,
           uid: str = "player", dpi: float = PLAYER_DPI, colors: int = 128) -> Player:
    """Precompute an explorer's frames, one control at a time.

    ``draw(**values)`` is as registered in ``EXPLORERS`` (PNG bytes, or figures rendered at
    ``dpi``); ``defaults`` holds every keyword it takes, a control's default being one of
    its ``controls`` positions (numbers become a range input, anything else a select).
    ``title`` is the frames' alt text, ``labels`` the controls' display names (default:
    their keywords), ``uid`` the player's HTML id (unique on its page).
    """
    from . import rendered_update

    controls = {c: list(v) for c, v in controls.items()}
    for c, values in controls.items():
        if c not in defaults:
            raise ValueError(f"control {c!r} has no default value")
        if defaults[c] not in values:
            raise ValueError(f"the default {c} = {defaults[c]!r} is not one of its positions")
    index = {c: controls[c].index(defaults[c]) for c in controls}
    frames, default = {}, None
    for c, values in controls.items():
        for i, v in enumerate(values):
            if i == index[c] and default is not None:
                frames[(c, i)] = default
                continue
            png = rendered_update(draw(**{**defaults, c: v}), dpi=dpi)
            if len(png) != 1:
                raise ValueError(f"an explorer frame must be one picture, got {len(png)}")
            frames[(c, i)] = _compress(png[0], colors)
            if i == index[c]:
                default = frames[(c, i)]
    return Player(title=title, controls=controls, labels={c: (labels or {}).get(c, c)
                                                          for c in controls},
                  defaults=index, frames=frames, uid=uid)
