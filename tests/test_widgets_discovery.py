"""The ``EXPLORERS`` convention of :mod:`sgdsim.widgets` and the explorers registered with it."""

import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from sgdsim import widgets  # noqa: E402


def _package(tmp_path, name, modules):
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    for mod, text in modules.items():
        (root / f"{mod}.py").write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib

        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


def test_iter_explorers_finds_registered_explorers_only(tmp_path):
    pkg = _package(tmp_path, "fake_widgets_ok", {
        "zeta": """
            def draw(lr, seed):
                return lr
            EXPLORERS = {
                "one": (draw, dict(lr=0.1, seed=0), [dict(lr=v / 20) for v in range(1, 21)]),
                "two": (draw, dict(lr=0.1, seed=0), [dict(seed=1)]),
            }
        """,
        "alpha": "EXPLORERS = {}",
        "plain": "X = 1",
        "_private": "EXPLORERS = {'hidden': 1}",
    })
    found = widgets.iter_explorers(pkg)
    assert [name for name, _ in found] == ["zeta.one", "zeta.two"]
    spec = found[0][1]
    assert isinstance(spec, widgets.ExplorerSpec) and len(spec.sweep) == 20
    assert spec.draw(**{**spec.defaults, **spec.sweep[-1]}) == pytest.approx(1.0)


@pytest.mark.parametrize("entry, err, match", [
    ("(print, {}, [])", ValueError, "sweep is empty"),
    ("(1, {}, [{}])", TypeError, "draw must be callable"),
    ("(print, [], [{}])", TypeError, "defaults must be a dict"),
    ("(print, {'a': 1}, [{'b': 2}])", ValueError, r"\['b'\].*not in defaults"),
    ("(print, {'a': 1}, [3])", TypeError, r"sweep\[0\]"),
    ("(print, {'a': 1})", TypeError, "expected"),
    ("dict(draw=print)", TypeError, "expected"),
])
def test_iter_explorers_rejects_malformed_entries(tmp_path, entry, err, match):
    name = f"fake_widgets_bad_{abs(hash(entry))}"
    pkg = _package(tmp_path, name, {"m": f"EXPLORERS = {{'x': {entry}}}"})
    with pytest.raises(err, match=match):
        widgets.iter_explorers(pkg)


def test_rendered_update_sees_pyplot_and_returned_figures():
    from matplotlib.figure import Figure

    plt.close("all")
    assert widgets.rendered_update(None) == []
    plt.subplots(figsize=(1.0, 1.0))
    loose = Figure(figsize=(2.0, 1.0))
    images = widgets.rendered_update(loose, dpi=50)
    assert sorted(_png_size(p) for p in images) == [(50, 50), (100, 50)]
    assert plt.get_fignums() == []


def test_explorers_must_be_a_dict(tmp_path):
    pkg = _package(tmp_path, "fake_widgets_list", {"m": "EXPLORERS = [1]"})
    with pytest.raises(TypeError, match="must be a dict"):
        widgets.iter_explorers(pkg)


@pytest.mark.parametrize("name, spec", widgets.iter_explorers() or [("none", None)],
                         ids=lambda x: x if isinstance(x, str) else "")
def test_every_registered_explorer_draws_its_defaults_and_a_slider_value(name, spec):
    if spec is None:
        pytest.skip("no explorers registered on this branch")
    for values in ({}, spec.sweep[-1]):
        plt.close("all")
        images = widgets.rendered_update(spec.draw(**{**spec.defaults, **values}))
        assert images, f"{name} drew no figure"
        for png in images:
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert plt.get_fignums() == [], f"{name} left figures open"
    plt.close("all")


def _png_size(png: bytes) -> tuple[int, int]:
    import struct

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])  # the IHDR chunk: width, height


def test_render_png_is_one_pass_at_the_explorer_dpi_without_cropping():
    from matplotlib.figure import Figure

    plt.rcParams["savefig.bbox"] = "tight"  # must not crop (nor cost a second pass)
    try:
        fig = Figure(figsize=(4.0, 2.0), layout="none")
        fig.add_subplot().plot([0, 1], [0, 1])
        assert _png_size(widgets.render_png(fig)) == (4 * widgets.EXPLORER_DPI,
                                                      2 * widgets.EXPLORER_DPI)
        assert _png_size(widgets.render_png(fig, dpi=50)) == (200, 100)
    finally:
        plt.rcParams["savefig.bbox"] = None


def test_rendered_update_takes_bytes_as_they_are_and_renders_and_closes_figures():
    assert widgets.rendered_update(b"\x89PNG-bytes") == [b"\x89PNG-bytes"]
    plt.close("all")
    fig, _ = plt.subplots(figsize=(2.0, 1.0))
    images = widgets.rendered_update(None, dpi=100)
    assert [_png_size(p) for p in images] == [(200, 100)]
    assert plt.get_fignums() == []
    assert widgets.rendered_update(None) == []


def test_encode_png_round_trips_through_pillow():
    import io

    import numpy as np
    from PIL import Image

    rgba = np.random.default_rng(0).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    png = widgets.encode_png(rgba)
    assert _png_size(png) == (5, 7)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), rgba[..., :3])


def test_live_figure_redraws_only_what_changes_and_matches_a_full_render():
    import io

    import numpy as np
    from matplotlib.figure import Figure
    from PIL import Image

    class Line(widgets.LiveFigure):
        figsize = (2.0, 1.5)

        def setup(self):
            self.ax = self.fig.add_subplot(xlim=(0, 1), ylim=(0, 2))
            self.redrawn = [self.ax.title]

        def draw(self, a):
            self.ax.set_title(f"a = {a}")
            return self.ax.plot([0, 1], [0, a])

    live = Line(Figure(figsize=Line.figsize, layout="none"))
    first = live.update(a=1.0).png(dpi=50)
    assert len(live.ax.lines) == 1 and live.update(a=1.5).png(dpi=50) != first
    assert len(live.ax.lines) == 1  # the previous line was removed
    blitted = np.asarray(Image.open(io.BytesIO(live.png(dpi=50)))).astype(int)
    for a in (live.redrawn + live._drawn):
        a.set_animated(False)
    full = np.asarray(Image.open(io.BytesIO(widgets.render_png(live.fig, dpi=50)))).astype(int)
    # the same picture, up to antialiasing where the line crosses the axes' frame
    assert (np.abs(blitted - full).max(axis=-1) > 2).mean() < 0.01
    draw = widgets.live(Line, dpi=50)
    assert draw(a=1.0) == first and plt.get_fignums() == []
