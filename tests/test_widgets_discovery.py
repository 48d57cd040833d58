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
                "two": dict(draw=draw, defaults=dict(lr=0.1, seed=0), sweep=[dict(seed=1)]),
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
    ("dict(draw=print)", ValueError, "needs keys"),
])
def test_iter_explorers_rejects_malformed_entries(tmp_path, entry, err, match):
    name = f"fake_widgets_bad_{abs(hash(entry))}"
    pkg = _package(tmp_path, name, {"m": f"EXPLORERS = {{'x': {entry}}}"})
    with pytest.raises(err, match=match):
        widgets.iter_explorers(pkg)


def test_figures_drawn_sees_pyplot_and_returned_figures():
    from matplotlib.figure import Figure

    plt.close("all")
    assert widgets.figures_drawn(None) == []
    fig, _ = plt.subplots()
    assert widgets.figures_drawn() == [fig]
    plt.close("all")
    loose = Figure()
    assert widgets.figures_drawn(loose) == [loose]
    assert widgets.figures_drawn((loose, "ax")) == [loose]


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


def test_show_figures_displays_each_figure_at_its_100_dpi_width_and_closes_it(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    plt.close("all")
    plt.subplots(figsize=(3.0, 2.0))
    widgets.show_figures()
    assert len(shown) == 1 and shown[0].width == 300
    assert _png_size(shown[0].data) == (3 * widgets.EXPLORER_DPI, 2 * widgets.EXPLORER_DPI)
    assert plt.get_fignums() == []
