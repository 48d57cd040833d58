"""Sphinx extension for the book's website: offline-complete and honest without a kernel.

Loaded from ``_config.yml`` (``sphinx: local_extensions: {book_site: _ext}``). It

1. **serves MathJax 3 from the site itself.** ``make site-assets`` installs the npm package
   ``mathjax`` (pinned in ``tools/site-assets/package-lock.json``) into
   ``tools/site-assets/node_modules``; after an HTML build this extension copies the files MathJax
   needs into ``_static/mathjax/`` of the built site, and ``mathjax_path`` (in ``_config.yml``)
   points there. A build without those files stops with an error that says what to run, and a
   ``mathjax_path`` on another host is refused, so the site can never silently fall back to a CDN.
   (The files cannot simply sit in ``_static/``: Jupyter Book adds every ``.js`` file found there
   to every page.)

2. **replaces dead widget controls by a launch note.** A static page has no kernel, so an
   ipywidgets explorer (a cell whose output has the mime type
   ``application/vnd.jupyter.widget-view+json``) cannot compute there. Each widget view becomes a
   short note -- the figure just before it shows the explorer's default state -- with a Binder
   link that opens this notebook in JupyterLab, where the controls work. The page then carries no
   widget state and loads no widget manager or require.js (``nb_ipywidgets_js: {}``), so nothing
   is fetched from a CDN. Chapter notebooks need no markup for this: any widget output gets it.
   ``make book`` sets ``SGDSIM_STATIC_BUILD=1``, under which no cell may create a widget at all
   (explorers show precomputed players): a widget view in an executed output is then a warning,
   an error under ``-W``.

3. **requires alt text on every figure.** A notebook figure takes its alt text from the cell
   metadata ``mystnb.image.alt`` (``tools/nbtools.code(..., alt=...)``); an image in a cell's HTML
   output (the frame of a JavaScript animation player) gets the same text. A figure without it is
   reported as a warning -- an error under ``-W`` -- naming the page and cell.

4. **keeps notebook HTML outputs offline.** Matplotlib's JavaScript animation player
   (``Animation.to_jshtml``) links Font Awesome 4 from a CDN for its button icons; the theme already
   serves Font Awesome (whose script draws those same ``fa`` icons), so the link is dropped. Any
   other external script, stylesheet, image or font in a notebook's HTML output is reported as a
   warning -- an error under ``-W`` -- with its location.

5. **drops repeated inline scripts** from each page (sphinx-thebe 0.3.1 adds its configuration
   script twice; the second ``const`` declaration is a console error on every page).
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Set by `make book`: explorer cells show precomputed players and never create a widget (a
#: widget view in an executed output is then a warning, an error under -W).
STATIC_ENV = "SGDSIM_STATIC_BUILD"
#: What an explorer cell shows when the build executed it (sgdsim.widgets.StaticExplorer).
STATIC_EXPLORER = 'data-sgdsim-explorer="1"'

# What of MathJax's es5 distribution the site needs: the combined TeX+MathML->CommonHTML
# component that Sphinx loads, and everything it may load lazily (TeX extensions through
# autoload, the CHTML fonts, the menu, the accessibility and speech components).
MATHJAX_KEEP = [
    "tex-mml-chtml.js", "input", "output/chtml", "output/chtml.js", "a11y", "ui", "sre",
    "adaptors", "core.js", "loader.js", "startup.js",
]

# Stylesheet links that HTML outputs carry but the site already provides.
REDUNDANT_LINK = re.compile(
    r"<link\b[^>]*\bhref=[\"']https?://[^\"']*font-?awesome[^\"']*[\"'][^>]*>\s*", re.I)
# External resources a page would load by itself (not ordinary hyperlinks).
EXTERNAL_RESOURCE = re.compile(
    r"<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\bsrc=[\"'](?:https?:)?//[^\"']+"
    r"|<link\b[^>]*\bhref=[\"'](?:https?:)?//[^\"']+"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|url\([\"']?(?:https?:)?//",
    re.I,
)


IMG_TAG = re.compile(r"<img\b[^>]*>", re.I)
HAS_ALT = re.compile(r"\balt\s*=\s*[\"'][^\"']*\S", re.I)


def _cell_alt(node: nodes.Node) -> str | None:
    """The ``mystnb.image.alt`` of the notebook cell that holds ``node``."""
    while node is not None:
        if isinstance(node, nodes.container) and "cell_metadata" in node.attributes:
            alt = ((node["cell_metadata"].get("mystnb") or {}).get("image") or {}).get("alt")
            return alt.strip() if isinstance(alt, str) and alt.strip() else None
        node = node.parent
    return None


def _cell_label(node: nodes.Node) -> str:
    while node is not None:
        if isinstance(node, nodes.container) and "cell_index" in node.attributes:
            return f"cell {node['cell_index']}"
        node = node.parent
    return "a cell"


def _mathjax_source(app: Sphinx) -> Path:
    return Path(app.srcdir) / app.config.book_site_mathjax_dir


def check_config(app: Sphinx) -> None:
    """Refuse a CDN MathJax, and a build without the local MathJax files."""
    if app.builder.format != "html":
        return
    path = app.config.mathjax_path
    if urlparse(path).scheme or path.startswith("//"):
        raise ExtensionError(
            f"mathjax_path is {path!r}: the site must serve MathJax itself. Set it to "
            "'mathjax/tex-mml-chtml.js' (relative to _static) in _config.yml.")
    src = _mathjax_source(app)
    if not (src / "tex-mml-chtml.js").is_file():
        raise ExtensionError(
            f"MathJax 3 is not installed in {src}. Run `make site-assets` (npm ci in "
            "tools/site-assets), or build with `make book`, which does it for you.")


def shrink_images(app: Sphinx, exception: Exception | None) -> None:
    """Re-encode the site's PNG figures with an adaptive 256-colour palette (when smaller).

    The notebooks keep their retina PNGs; on the website a chart's few colours fit a palette
    with no visible change, which makes a chapter page (and its players) about 2.5x lighter
    for a reader on a phone. Images with transparency are left as they are.
    """
    if exception is not None or app.builder.format != "html":
        return
    import io

    from PIL import Image

    saved = 0
    for path in sorted((Path(app.outdir) / "_images").glob("*.png")):
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            if im.mode in ("P", "L") or "A" in im.getbands() and im.getextrema()[-1][0] < 255:
                continue
            q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                           dither=Image.Dither.NONE)
            out = io.BytesIO()
            q.save(out, format="PNG", optimize=True)
        if len(out.getvalue()) < len(data):
            path.write_bytes(out.getvalue())
            saved += len(data) - len(out.getvalue())
    logger.info("book_site: site figures re-encoded with a palette, %.1f MB saved", saved / 2**20)


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src = _mathjax_source(app)
    dest = Path(app.outdir) / "_static" / "mathjax"
    if dest.exists():
        shutil.rmtree(dest)
    for item in MATHJAX_KEEP:
        s, d = src / item, dest / item
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d)
        else:
            shutil.copy2(s, d)
    for name in ("LICENSE", "package.json"):
        if (src.parent / name).is_file():
            shutil.copy2(src.parent / name, dest / name)
    if not (Path(app.outdir) / "_static" / app.config.mathjax_path).is_file():
        raise ExtensionError(f"mathjax_path {app.config.mathjax_path!r} is not among the "
                             "MathJax files copied into _static/mathjax")


def binder_url(app: Sphinx, docname: str) -> str | None:
    """The Binder link to this page's notebook, built like the theme's launch button."""
    opts = app.config.html_theme_options or {}
    repo = (opts.get("repository_url") or "").rstrip("/")
    hub = (opts.get("launch_buttons", {}).get("binderhub_url") or "").rstrip("/")
    if not repo.startswith("https://github.com/") or not hub:
        return None
    org, name = repo.removeprefix("https://github.com/").split("/")[:2]
    branch = opts.get("repository_branch") or "main"
    ui = {"jupyterlab": "lab/tree", "classic": "tree"}.get(
        opts.get("launch_buttons", {}).get("notebook_interface", "jupyterlab"), "lab/tree")
    book = (opts.get("path_to_docs") or "").strip("/")
    path = app.env.doc2path(docname, base=False)
    path = f"{book}/{path}" if book else str(path)
    return f"{hub}/v2/gh/{org}/{name}/{branch}?urlpath={ui}/{path}"


def launch_note(app: Sphinx, docname: str) -> nodes.container:
    note = nodes.container(classes=["book-widget-launch"])
    para = nodes.paragraph()
    para += nodes.strong(text="Interactive explorer. ")
    para += nodes.Text(
        "Its controls need a running Python kernel, which this static page does not have; "
        "the figure above shows its default state. To move the controls, ")
    url = binder_url(app, docname)
    if url:
        para += nodes.reference("", "open this notebook in Binder", refuri=url,
                                classes=["book-widget-launch-link"])
        para += nodes.Text(" or use the rocket button at the top of the page "
                           "(Binder, Colab or Live Code).")
    else:
        para += nodes.Text("launch this page with the rocket button at the top.")
    note += para
    return note


def process_doctree(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    widgets = 0
    for raw in list(doctree.findall(nodes.raw)):
        if "html" not in raw.get("format", "").split():
            continue
        text = raw.astext()
        if (WIDGET_VIEW in text and text.lstrip().startswith("<script")) or STATIC_EXPLORER in text:
            if WIDGET_VIEW in text and os.environ.get(STATIC_ENV):
                logger.warning(
                    "%s: a widget was created while %s=%s (make book): an explorer cell must "
                    "return its player (sgdsim.widgets.static_view) before it touches ipywidgets",
                    _cell_label(raw), STATIC_ENV, os.environ[STATIC_ENV], location=raw,
                    type="book_site", subtype="widget")
            raw.replace_self(launch_note(app, docname))
            widgets += 1
            continue
        cleaned = REDUNDANT_LINK.sub("", text)
        alt = None
        for tag in IMG_TAG.findall(cleaned):
            if HAS_ALT.search(tag):
                continue
            alt = alt or _cell_alt(raw)
            if alt is None:
                logger.warning("%s: an image in an HTML output has no alt text: give the cell "
                               "metadata mystnb.image.alt (nbtools.code(..., alt=...))",
                               _cell_label(raw), location=raw, type="book_site", subtype="alt")
                break
            fixed = re.sub(r"\balt\s*=\s*[\"'][\"']", "", tag)
            fixed = fixed.replace("<img", f'<img alt="{html.escape(alt, quote=True)}"', 1)
            cleaned = cleaned.replace(tag, fixed)
        for m in EXTERNAL_RESOURCE.finditer(cleaned):
            logger.warning(
                "HTML output loads an external resource (%s...): the site must work offline; "
                "serve it from _static or drop it", m.group(0)[:120], location=raw,
                type="book_site", subtype="external")
        if cleaned != text:
            new = nodes.raw("", cleaned, format=raw["format"])
            new.source, new.line = raw.source, raw.line
            raw.replace_self(new)
    for img in doctree.findall(nodes.image):
        if not (img.get("alt") or "").strip():
            logger.warning("%s: a figure has no alt text: give the cell metadata "
                           "mystnb.image.alt (nbtools.code(..., alt=...)), or ![alt](...) "
                           "in Markdown", _cell_label(img), location=img,
                           type="book_site", subtype="alt")
    # No widget state or widget manager on the page: nothing there could use them.
    meta = getattr(app.env, "nb_metadata", {}).get(docname, {})
    for key in [k for k in meta.get("js_files", {}) if k.startswith("ipywidgets")]:
        del meta["js_files"][key]
    if widgets:
        logger.verbose("%s: %d widget view(s) replaced by a launch note", docname, widgets)


def dedupe_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Drop repeated inline scripts (sphinx-thebe registers its config script twice, and the
    second ``const THEBE_JS_URL`` throws a SyntaxError on every page)."""
    files = context.get("script_files")
    if not files:
        return
    seen, keep = set(), []
    for js in files:
        attrs = getattr(js, "attributes", {}) or {}
        # the same script is registered once with filename None and once with ''
        key = (getattr(js, "filename", str(js)) or "",
               tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            keep.append(js)
    files[:] = keep


def _static_fingerprint(app: Sphinx) -> tuple:
    items = []
    for folder in list(app.config.html_static_path) + list(app.config.html_extra_path):
        base = Path(app.srcdir) / folder
        for p in sorted(base.rglob("*")) if base.is_dir() else []:
            if p.is_file():
                st = p.stat()
                # a static folder may live outside the book (an extension's, in a venv elsewhere)
                name = (p.relative_to(app.srcdir).as_posix() if p.is_relative_to(app.srcdir)
                        else p.as_posix())
                items.append((name, st.st_mtime_ns, st.st_size))
    return tuple(items)


def refresh_static(app: Sphinx, env, added, changed, removed) -> list[str]:
    """After an edit to _static/ or _extra/ alone, Sphinx finds nothing out of date and copies no
    static files; mark the root page outdated so the build runs to the end and copies them."""
    fingerprint = _static_fingerprint(app)
    if getattr(env, "book_site_static", None) != fingerprint:
        env.book_site_static = fingerprint
        return [app.config.root_doc]
    return []


def setup(app: Sphinx) -> dict:
    app.add_config_value("book_site_mathjax_dir", "tools/site-assets/node_modules/mathjax/es5",
                         "html")
    app.connect("builder-inited", check_config)
    app.connect("doctree-read", process_doctree)
    app.connect("env-get-outdated", refresh_static)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", shrink_images)
    return {"version": "1.0", "env_version": 2, "parallel_read_safe": True, "parallel_write_safe": True}
