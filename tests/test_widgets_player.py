"""The kernel-free player: precomputed frames behind native controls."""

import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from sgdsim import widgets  # noqa: E402


def _draw(a=1.0, b="x"):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, a])
    ax.set_title(b)
    return fig


def test_player_precomputes_one_control_at_a_time():
    calls = []

    def draw(a=1.0, b="x"):
        calls.append((a, b))
        return _draw(a, b)

    p = widgets.player(draw, {"a": 1.0, "b": "x"}, {"a": [0.5, 1.0, 2.0], "b": ["x", "y"]},
                       title="A line", uid="t1")
    # defaults drawn once; each other position once, with the other control at its default
    assert sorted(calls) == sorted([(1.0, "x"), (0.5, "x"), (2.0, "x"), (1.0, "y")])
    assert p.frame_count() == 4 and p.defaults == {"a": 1, "b": 0}
    html = p._repr_html_()
    assert html.count("<img") == 4 and html.count(' hidden="hidden">') == 3
    assert '<input type="range" id="t1-c0" data-control="0" min="0" max="2"' in html
    assert "<select" in html and ">y</option>" in html
    assert all(re.search(r'alt="A line: [ab] = ', tag) for tag in re.findall(r"<img[^>]*>", html))
    assert "http" not in html  # nothing from another host
    assert repr(p) == "Explorer (precomputed, 4 frames): A line"
    assert not plt.get_fignums()


def test_player_bad_input():
    with pytest.raises(ValueError, match="not one of its positions"):
        widgets.player(_draw, {"a": 1.5, "b": "x"}, {"a": [1.0, 2.0]}, title="t")
    with pytest.raises(ValueError, match="no default"):
        widgets.player(_draw, {"b": "x"}, {"a": [1.0]}, title="t")


def test_static_view_modes(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    assert widgets.static_build()
    assert isinstance(widgets.static_view(lambda: "player"), str)
    monkeypatch.setenv(widgets.STATIC_ENV, "note")
    assert isinstance(widgets.static_view(lambda: "player"), widgets.StaticExplorer)
    monkeypatch.setenv(widgets.STATIC_ENV, "0")
    assert not widgets.static_build()
    assert os.environ[widgets.STATIC_ENV] == "0"


def test_explorer_in_a_build_is_a_player_with_its_default_position_or_a_note(monkeypatch):
    def make_draw(dpi):
        return lambda a, b: _draw(a, b)

    args = (make_draw, {"a": 1.5, "b": "x"},
            {"a": ("A", "FloatSlider", dict(min=0, max=2), [0.5, 2.0]),
             "b": ("B", "Dropdown", {"options": ["x", "y"]}, None)})
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    p = widgets.explorer(*args, title="t", uid="u")
    assert p.controls == {"a": [0.5, 1.5, 2.0], "b": ["x", "y"]} and p.labels["a"] == "A"
    assert p.frame_count() == 4 and not plt.get_fignums()
    monkeypatch.setenv(widgets.STATIC_ENV, "note")
    assert isinstance(widgets.explorer(*args, title="t", uid="u"), widgets.StaticExplorer)
