"""Fast checks of the website's sources (part of `make test`; the browser tests are in tests/browser).

- every figure in a chapter notebook has alt text (cell metadata ``mystnb.image.alt``);
- the errata page links every ``err-*`` label, each label sits right before a heading in a
  chapter, and every ``err-*`` label in the chapters has an entry on the errata page;
- the site's configuration serves MathJax itself and pins it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
FIGURE_MIME = ("image/png", "image/svg+xml", "image/jpeg", "image/gif")
ERRATA = ["err-update-rule", "err-clt", "err-variance-sigma", "err-alpha", "err-resnet-drops",
          "err-tz-batch", "err-rmsprop-uncentered"]


def figures_without_alt(nb) -> list[int]:
    """Indices of code cells that draw a figure (an image, or an <img> in HTML) but have no alt."""
    missing = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        draws = False
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            # an <img> in HTML needs the cell's alt text unless it carries its own (players)
            bare = [t for t in re.findall(r"<img\b[^>]*>", html, re.I)
                    if not re.search(r'\balt="[^"]+"', t)]
            if any(m in data for m in FIGURE_MIME) or bare:
                draws = True
        alt = ((cell.metadata.get("mystnb") or {}).get("image") or {}).get("alt")
        if draws and not (isinstance(alt, str) and alt.strip()):
            missing.append(i)
    return missing


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text(path):
    nb = nbformat.read(path, as_version=4)
    missing = figures_without_alt(nb)
    assert not missing, (f"{path.name}: code cells {missing} draw a figure without alt text; "
                         "write them with tools/nbtools.code(..., alt='what the figure shows')")


def test_alt_text_check_catches_a_figure_without_it():
    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}
    anim = {"text/html": '<div class="animation"><img id="_anim_img1"></div>'}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("plot()", outputs=[
            nbformat.v4.new_output("display_data", data=png)]),
        nbformat.v4.new_code_cell("plot()", metadata={"mystnb": {"image": {"alt": "A line."}}},
                                  outputs=[nbformat.v4.new_output("display_data", data=png)]),
        nbformat.v4.new_code_cell("HTML(anim.to_jshtml())", outputs=[
            nbformat.v4.new_output("execute_result", data=anim, execution_count=1)]),
        nbformat.v4.new_code_cell("plot()", metadata={"mystnb": {"image": {"alt": "  "}}},
                                  outputs=[nbformat.v4.new_output("display_data", data=png)]),
        nbformat.v4.new_code_cell("print(1)", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="1\n")]),
    ])
    assert figures_without_alt(nb) == [0, 2, 3]


def _labels_before_headings() -> dict[str, str]:
    """err-* labels placed on their own line right before a heading, by chapter."""
    found = {}
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            lines = cell.source.splitlines()
            for k, line in enumerate(lines):
                m = re.fullmatch(r"\((err-[\w-]+)\)=\s*", line)
                if m:
                    nxt = next((x for x in lines[k + 1:] if x.strip()), "")
                    assert nxt.startswith("#"), \
                        f"{path.name}: label {m.group(1)} is not right before a heading"
                    assert m.group(1) not in found, f"label {m.group(1)} defined twice"
                    found[m.group(1)] = path.stem
    return found


def test_errata_page_links_every_error_to_its_evidence():
    text = (ROOT / "chapters" / "errata.md").read_text()
    linked = re.findall(r"\{ref\}`(?:[^`<]*<)?(err-[\w-]+)>?`", text)
    labels = _labels_before_headings()
    for label in ERRATA:
        assert label in linked, f"errata.md does not link {label}"
    for label in linked:
        assert label in labels, f"errata.md links {label}, which no chapter defines"
    unlisted = sorted(set(labels) - set(linked))
    assert not unlisted, f"chapters mark errors {unlisted} that errata.md does not list"
    # Each entry says what the slide says and what is true.
    entries = text.split("\n## ")[1:]
    assert len(entries) == len(linked)
    for entry in entries:
        assert "**The slide says:**" in entry and "**What is true:**" in entry, entry[:60]


def test_errata_page_sits_between_the_chapters_and_the_bibliography():
    toc = (ROOT / "_toc.yml").read_text()
    assert toc.index("chapters/rmsprop") < toc.index("chapters/errata") < \
        toc.index("chapters/bibliography")


def test_mathjax_is_served_by_the_site_and_pinned():
    config = (ROOT / "_config.yml").read_text()
    path = re.search(r"^\s+mathjax_path:\s*(\S+)", config, re.M).group(1)
    assert "://" not in path and not path.startswith("//"), path
    lock = json.loads((ROOT / "tools" / "site-assets" / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/mathjax"]["version"]
    assert version.startswith("3."), version
    assert "integrity" in lock["packages"]["node_modules/mathjax"]


def _markdown_sources():
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        yield path.name, "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for path in sorted((ROOT / "chapters").glob("*.md")):
        yield path.name, path.read_text(encoding="utf-8")


def test_references_to_headings_with_math_have_plain_link_text():
    # Sphinx uses a heading's source as a bare {ref}'s link text, and TeX in a link is not
    # typeset: such references need explicit text, {ref}`plain words <label>`
    sources = dict(_markdown_sources())
    math_labels = set()
    for text in sources.values():
        for m in re.finditer(r"^\(([\w-]+)\)=\s*\n#+ [^\n]*\$", text, re.M):
            math_labels.add(m.group(1))
    bare = [(name, label) for name, text in sources.items()
            for label in re.findall(r"\{ref\}`([\w-]+)`", text) if label in math_labels]
    assert not bare, f"bare references to headings with math: {bare}"


def test_inline_math_never_continues_on_a_line_read_as_a_list_item():
    # "$a\n+ b$": markdown reads the second line as a list item and the math is lost
    bad = []
    for name, text in _markdown_sources():
        open_math = False
        for line in text.split("\n"):
            if line.strip().startswith("$$"):
                continue
            if open_math and re.match(r"^\s*[-+*]\s", line):
                bad.append((name, line.strip()[:60]))
            open_math ^= len(re.findall(r"(?<![\\$])\$(?!\$)", line)) % 2 == 1
    assert not bad, f"inline math broken by a list marker: {bad}"


def _doctree_with_widget_view():
    from docutils import nodes
    from docutils.utils import new_document
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser

    doc = new_document("<test>", get_default_settings(Parser))
    cell = nodes.container(cell_index=7)
    cell += nodes.raw("", '<script type="application/vnd.jupyter.widget-view+json">{}</script>',
                      format="html")
    doc += cell
    return doc


@pytest.mark.parametrize("static", ["1", None])
def test_a_widget_created_in_a_static_build_is_a_build_warning(static, monkeypatch):
    """`make book` (SGDSIM_STATIC_BUILD=1) must never create a widget: a widget view in an
    executed output is then a warning (an error under -W), naming the cell; without the
    variable it is only replaced by the launch note."""
    import sys
    from types import SimpleNamespace

    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        import book_site
    finally:
        sys.path.pop(0)
    if static is None:
        monkeypatch.delenv(book_site.STATIC_ENV, raising=False)
    else:
        monkeypatch.setenv(book_site.STATIC_ENV, static)
    warned = []
    monkeypatch.setattr(book_site.logger, "warning", lambda msg, *a, **k: warned.append(msg % a))
    env = SimpleNamespace(docname="chapters/x", nb_metadata={})
    app = SimpleNamespace(env=env, config=SimpleNamespace(html_theme_options={}))
    doc = _doctree_with_widget_view()
    book_site.process_doctree(app, doc)
    assert "book-widget-launch" in doc.pformat()
    if static is None:
        assert warned == []
    else:
        assert len(warned) == 1 and "cell 7" in warned[0] and "widget was created" in warned[0]
