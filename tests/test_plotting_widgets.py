import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import sgdsim  # noqa: E402
from sgdsim import plotting, widgets  # noqa: E402


def test_book_style_uses_colour_blind_safe_cycle():
    plotting.use_book_style()
    colors = [c["color"].upper() for c in matplotlib.rcParams["axes.prop_cycle"]]
    assert colors[0] == plotting.PALETTE["blue"].upper()
    assert set(colors) <= {v.upper() for v in plotting.PALETTE.values()}
    assert matplotlib.rcParams["axes.labelsize"] >= 12


def test_loss_contours(quad2d):
    fig, ax = plt.subplots()
    cs = plotting.loss_contours(ax, quad2d, (-1, 3), (-4, 1))
    assert len(cs.levels) > 3
    with pytest.raises(ValueError, match="2-D"):
        plotting.loss_contours(ax, sgdsim.double_well(), (-1, 1), (-1, 1))
    plt.close(fig)


def test_explorer_builds_an_interactive_widget_showing_the_picture(monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display

    shown, calls = [], []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))

    def make_draw(dpi):
        def draw(lr, seed):
            calls.append((lr, seed))
            fig = plt.figure(figsize=(3.0, 2.0))
            fig.add_subplot().plot([0, lr])
        return draw

    w = widgets.explorer(make_draw, {"lr": 0.1, "seed": 3},
                         {"lr": ("rate", "FloatSlider", dict(min=0.01, max=1.0), [0.5])},
                         title="t", uid="u")
    slider = w.children[0]
    assert slider.continuous_update is False and slider.description == "rate"
    slider.value = 0.5
    assert calls == [(0.1, 3), (0.5, 3)]
    assert [img.width for img in shown] == [300, 300] and shown[0].data != shown[1].data
    assert plt.get_fignums() == []


def test_unicode_log_ticks_label_decades_without_mathtext():
    import matplotlib.pyplot as plt

    from sgdsim.plotting import unicode_log_ticks

    fig, ax = plt.subplots()
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 1e3)
    unicode_log_ticks(ax.yaxis)
    fmt = ax.yaxis.get_major_formatter()
    labels = [fmt(v, i) for i, v in enumerate([1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 100.0, 1e3, 3.0])]
    assert labels == ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹", "10²", "10³", ""]
    fig.canvas.draw()
    assert not any("$" in t.get_text() for t in ax.get_yticklabels())
    plt.close(fig)
